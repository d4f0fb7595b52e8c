// charts: how every dashboard chart is framed, so that a reader can trust
// it. A chart is an ECharts instance in a titled figure; its legend sits in
// its own row above the plot and scrolls rather than wraps; the grid holds
// its axis labels; each value axis carries one unit, labelled in it, with
// ticks that never repeat a label; two series share an axis only when they
// have the same unit and a similar range (else the second gets an axis of
// its own); a catalogue target is a dashed line the axis reaches. Charts
// follow their box's size (a phone turned, the menu opened) and are
// disposed with the page they were drawn on. Words come from i18n.js.
import { el, kpiName, fmtValue, fmtTarget } from './core.js';
import { t, locale, moneySteps } from './i18n.js';

export const palette = ['#1f6feb', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
// last year's series: the same colours, faint
export const faint = (c) => `${c}55`;

// --- drawing and sizing ---
const live = new Map();            // container → {inst, option, onClick}
// (an observer reports each box once when it starts watching: a box still
// the size it was drawn at is not drawn again)
const watcher = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver((entries) => {
  for (const e of entries) {
    const c = live.get(e.target);
    if (!c) continue;
    const w = Math.round(e.contentRect.width), hgt = Math.round(e.contentRect.height);
    if (w === c.inst.getWidth() && hgt === c.inst.getHeight()) continue;
    c.inst.resize();
  }
});
// Charts whose box left the page (a new period drawn): gone.
function sweep() {
  for (const [box, c] of live) {
    if (box.isConnected) continue;
    watcher?.unobserve(box);
    c.inst.dispose();
    live.delete(box);
  }
}
function draw(container, option, onClick, dpr) {
  /* global echarts */
  const inst = echarts.init(container, null, { renderer: 'canvas', devicePixelRatio: dpr });
  inst.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
  if (onClick) inst.on('click', onClick);
  live.set(container, { inst, option, onClick });
  return inst;
}
// Draws a chart in its box; opts.onClick(event) on a click on a bar or a point.
export function chart(container, option, { onClick } = {}) {
  sweep();
  const inst = draw(container, option, onClick, window.devicePixelRatio || 1);
  watcher?.observe(container);
  container.dataset.chart = 'ready';
  return inst;
}
// Paper wants more pixels than a screen: before the browser prints, each
// chart is drawn again from its option at twice the pixels; the screen
// keeps the sharper copy.
const PRINT_DPR = 2;
window.addEventListener('beforeprint', () => {
  sweep();
  for (const [box, c] of live) {
    if (c.inst.getDevicePixelRatio() >= PRINT_DPR) continue;
    c.inst.dispose();
    draw(box, c.option, c.onClick, PRINT_DPR);
  }
});
export function chartBox(cls = '') { return el('div', { class: 'chart ' + cls }); }
// A chart with its title: a figure holding one heading and one chart box.
export function figure(title, box, ...more) {
  return el('figure', { class: 'figure' }, el('h3', {}, title), box, ...more);
}

// --- axes and their labels ---
// How many decimals a tick label needs for ticks `step` apart to read as
// they are (a step of 2.5 needs one: 2.5, 5.0, 7.5, never 3, 5, 8).
function decimalsFor(step) {
  if (!(step > 0)) return 0;
  for (let d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9)); d < 6; d++) {
    const x = step * 10 ** d;
    if (Math.abs(x - Math.round(x)) < 1e-6) return d;
  }
  return 6;
}
const num = (v, digits) => Number(v).toLocaleString(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits });
// A value axis's tick label in its unit, for ticks `step` apart up to
// `max`: the labels of one axis share their decimals and (money) their
// step of wan or yi, so 0, 0.5, 1, 1.5 never reads 0, 1, 1, 2 and an axis
// never mixes yuan with wan on one axis.
export function axisFormatter(unit, step = 1, max = 0) {
  const f = unitFormatter(unit, step, max);
  // the axis's origin reads 0 in every unit but percent
  return unit === 'ratio' ? f : (v) => (v === 0 ? '0' : f(v));
}
function unitFormatter(unit, step, max) {
  switch (unit) {
    case 'ratio': return (v) => num(v * 100, decimalsFor(step * 100)) + '%';
    case 'CNY': {
      const st = moneySteps().find((x) => Math.abs(max) >= x.from) || moneySteps().at(-1);
      return (v) => t(st.key, { v: num(v / st.div, decimalsFor(step / st.div)) });
    }
    case 'h': return (v) => t('unit_h', { v: num(v, decimalsFor(step)) });
    case 'CNY/h': return (v) => t('unit_cny_per_h', { v: num(v, decimalsFor(step)) });
    case 'times/yr': return (v) => t('unit_times_yr', { v: num(v, decimalsFor(step)) });
    case 'days': return (v) => t('unit_days', { v: num(v, decimalsFor(step)) });
    default: return (v) => num(v, decimalsFor(step));
  }
}

// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) not below v.
export function niceCeil(v) {
  if (!(v > 0)) return v;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((step) => step * p >= v * (1 - 1e-9)) ?? 10) * p;
}
// A nice step for about `n` ticks over [0, max].
function niceStep(max, n = 5) {
  if (!(max > 0)) return 1;
  const raw = max / n, p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((s) => s * p >= raw * (1 - 1e-9)) ?? 10) * p;
}

// The dashed line of a KPI's catalogue target (two for a band, none when the
// KPI has no target or its target is zero). Each line's data item is named by the KPI id; its label
// is the target as the cards show it.
export function targetLine(def) {
  const tg = def?.target;
  if (tg === null || tg === undefined) return null;
  // (a target of zero is the axis itself: no line is drawn on it)
  const lines = (typeof tg === 'object'
    ? [tg.low, tg.high].filter(Number.isFinite).map((v) => [v, fmtValue(v, def.unit)])
    : [[tg, fmtTarget(def)]]).filter(([v]) => v !== 0);
  if (!lines.length) return null;
  return { silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: '#d64545' },
    data: lines.map(([value, label]) => ({ name: def.id, yAxis: value,
      label: { formatter: label, position: 'insideEndTop', color: '#d64545', backgroundColor: 'rgba(255,255,255,0.85)', padding: [1, 3] } })) };
}

// A series of a framed chart: {name, type: 'bar'|'line', unit, data, def?
// (its KPI: its target is drawn), stack?, faint? (last year's), dashed? (a
// line without points: a budget), color?}.
// The options ECharts gets are made by frame().
const maxAbs = (data) => data.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
// Two ranges are similar when the larger top is at most this many times the smaller.
export const SIMILAR_RANGE = 5;
const similar = (a, b) => a === 0 || b === 0 || Math.max(a, b) / Math.min(a, b) <= SIMILAR_RANGE;

// The value axes the series need: a series joins an axis of its unit whose
// series have a similar range (stacked series join their stack's axis),
// else it opens a new one (at most two: a third unit is a second chart).
function assignAxes(series) {
  const axes = [];
  for (const s of series) {
    const top = Math.max(maxAbs(s.data), ...(s.targets || []));
    let i = s.stack ? axes.findIndex((a) => a.stacks.has(s.stack)) : -1;
    if (i < 0) i = axes.findIndex((a) => a.unit === s.unit && similar(a.top, top));
    if (i < 0) {
      if (axes.length === 2) throw new Error(`a chart holds two value axes at most (${s.name})`);
      axes.push({ unit: s.unit, top: 0, stacks: new Set(), stackTops: new Map(), colour: s.color });
      i = axes.length - 1;
    }
    const a = axes[i];
    if (s.stack) {
      a.stacks.add(s.stack);
      const sums = a.stackTops.get(s.stack) || [];
      s.data.forEach((v, k) => { sums[k] = (sums[k] || 0) + (Number.isFinite(v) ? v : 0); });
      a.stackTops.set(s.stack, sums);
      a.top = Math.max(a.top, ...sums.map(Math.abs), ...(s.targets || []));
    } else a.top = Math.max(a.top, top);
    s.axis = i;
  }
  return axes;
}

// The ECharts option of a chart: {categories, series, horizontal?, legend?
// (default: when more than one series), rotate? (category labels)}.
export function frame({ categories, series, legend, horizontal = false, rotate = 0 }) {
  const list = series.map((s, i) => ({ ...s, color: s.color || palette[i % palette.length],
    targets: (targetLine(s.def)?.data || []).map((d) => d.yAxis) }));
  const axes = assignAxes(list);
  const showLegend = legend ?? list.length > 1;
  const valueAxes = axes.map((a, i) => {
    // the axis's top: its data and its targets, rounded up to a nice number (a share
    // that stays within 100% never runs past it); ticks a nice step apart
    // (an axis with nothing on it, a month without data, runs 0 to 1 of its unit; counts
    // and money step by whole units, so no money axis reads 0.2 yuan or one label thrice)
    const whole = a.unit === 'ratio' && a.top <= 1;
    const max = whole ? (Math.min(1, niceCeil(a.top * 1.05)) || 1) : (niceCeil(a.top * 1.05) || 1);
    const interval = a.unit === 'count' || a.unit === 'CNY' ? Math.max(1, niceStep(max)) : niceStep(max);
    const top = whole ? Math.min(1, Math.ceil(max / interval - 1e-9) * interval) : Math.ceil(max / interval - 1e-9) * interval;
    return {
      type: 'value', unit: a.unit, min: 0, max: top, interval,
      axisLabel: { formatter: axisFormatter(a.unit, interval, top), color: axes.length > 1 ? a.colour : undefined, hideOverlap: true },
      splitLine: { show: i === 0 }, position: horizontal ? (i ? 'top' : 'bottom') : (i ? 'right' : 'left'),
    };
  });
  // every category named while there are few (a label that would overlap its neighbour is hidden);
  // many: as many as fit
  const categoryAxis = { type: 'category', data: categories,
    axisLabel: { interval: categories.length <= 12 ? 0 : 'auto', rotate: horizontal ? 0 : rotate, fontSize: 11, hideOverlap: true } };
  return {
    color: palette,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
    legend: showLegend ? { type: 'scroll', top: 0, left: 'center', data: list.filter((s) => !s.hideInLegend).map((s) => s.name) } : { show: false },
    grid: { top: showLegend ? 40 : 18, left: 8, right: 16, bottom: 6, containLabel: true },
    xAxis: horizontal ? valueAxes : categoryAxis,
    yAxis: horizontal ? { ...categoryAxis, inverse: true } : valueAxes,
    series: list.map((s) => {
      const o = { name: s.name, type: s.type, unit: s.unit, data: s.data, [horizontal ? 'xAxisIndex' : 'yAxisIndex']: s.axis,
        itemStyle: { color: s.faint ? faint(s.color) : s.color } };
      if (s.stack) o.stack = s.stack;
      if (s.type === 'bar') o.barMaxWidth = 36;
      if (s.type === 'line') {
        o.connectNulls = false; o.symbolSize = 5;
        o.lineStyle = s.faint ? { color: faint(s.color), type: 'dashed' } : { color: s.color, type: s.dashed ? 'dashed' : 'solid' };
        if (s.dashed) o.symbol = 'none';
      }
      if (s.faint) o.z = 1;
      const m = targetLine(s.def);
      if (m && !s.faint) o.markLine = m;
      return o;
    }),
  };
}

// A KPI's series: named by the catalogue, in its unit, with its target.
export const kpiSeries = (def, type, data, extra = {}) => ({ name: kpiName(def), type, unit: def.unit, data, def, ...extra });

// The five SERVQUAL dimensions of one store or scope (values by KPI id),
// each bar beside the group's median (medians by KPI id; none when there
// are no benchmarks): one axis of scores, the dimensions down the side so
// that their names read on a phone.
export function dimensionsChart(defs, name, values, medians = null) {
  const series = [{ name, type: 'bar', unit: 'score', data: defs.map((d) => values[d.id] ?? null) }];
  if (medians) series.push({ name: t('bench_median'), type: 'bar', unit: 'score', data: defs.map((d) => medians[d.id] ?? null), color: '#9aa3b2' });
  return frame({ categories: defs.map(kpiName), series, horizontal: true, legend: true });
}
