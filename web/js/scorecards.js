// scorecards: pick a scorecard and a period, run it, and read the answer:
// what the scorecard ranks (the explanation paragraph of its source, in the
// reader's language), the ranked table (an item column for whatever the rows
// hold: points, values or both, headed with the item's or the KPI's name from
// the catalogue, each store linking to its store page), each store's score
// broken down by item (up to 12 colours told apart, the legend in its own
// block under the chart) and the grade distribution. Regional managers and
// admins also get the editor (scorecard_editor.js): copy a scorecard into
// their own, edit, check, try and save it.
import {
  boot, api, el, $, kpiName, fmtNum, fmtValue, table, panel, showError, ApiError, heading, storeName, link,
} from './core.js';
import { chart, chartBox, frame } from './charts.js';
import { t, localized } from './i18n.js';
import { editorPanel } from './scorecard_editor.js';

const main = $('#main');
let ctx, list = [], selected = null;
const mayEdit = () => ['admin', 'regional_manager'].includes(ctx.me.role);

// Twelve colours a reader tells apart (Kelly's colours of maximum contrast,
// white and black left out), one per item of a breakdown.
export const ITEM_COLOURS = ['#0067A5', '#F38400', '#008856', '#BE0032', '#875692', '#F3C300',
  '#A1CAF1', '#848482', '#E68FAC', '#C2B280', '#654522', '#8DB600'];

const CJK = /[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]/u;
const CJK_END = /[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]$/u;

// The explanation of a scorecard: the paragraph of its leading comment in the
// reader's language (the shipped ones hold one in Chinese and one in English,
// each after its label, e.g. "English: ..."); null when it has none.
export function explanation(source) {
  const lines = [];
  for (const line of (source || '').split('\n')) {
    if (!line.startsWith('--')) break;
    lines.push(line.replace(/^--+ ?/, ''));
  }
  const paragraphs = [];
  let cur = [];
  // lines of a paragraph join with a space, but Chinese ones without
  const join = (ls) => ls.reduce((acc, l) => (acc && !(CJK_END.test(acc) && CJK.test(l[0])) ? `${acc} ${l}` : acc + l), '');
  for (const l of lines.slice(1)) {              // the first line is the title
    if (l.trim() === '') { if (cur.length) paragraphs.push(join(cur)); cur = []; } else cur.push(l.trim());
  }
  if (cur.length) paragraphs.push(join(cur));
  const strip = (p) => p?.replace(/^[^\s:\uff1a]{1,12}[:\uff1a]\s*/u, '') || null;
  const zh = paragraphs.find((p) => CJK.test(p));
  const en = paragraphs.find((p) => !CJK.test(p));
  return localized({ zh: strip(zh || en), en: strip(en || zh) }) || null;
}

// The items of a result, in the order they first appear: {key, title, unit, points, value}.
function itemsOf(rows) {
  const byKey = new Map();
  for (const r of rows) {
    (r.items || []).forEach((it, i) => {
      const key = it.kpi || (typeof it.label === 'string' ? it.label : localized(it.label)) || `#${i + 1}`;
      let d = byKey.get(key);
      if (!d) {
        const def = ctx.catalogue[it.kpi];
        const title = typeof it.label === 'string' ? it.label : it.label ? localized(it.label) : def ? kpiName(def) : key;
        d = { key, title, unit: it.unit || def?.unit, def, points: false, value: false };
        byKey.set(key, d);
      }
      if (typeof it.points === 'number') d.points = true;
      if (typeof it.value === 'number') d.value = true;
    });
  }
  return [...byKey.values()];
}

const itemKey = (it, i) => it.kpi || (typeof it.label === 'string' ? it.label : localized(it.label)) || `#${i + 1}`;

function resultView(res, target) {
  const rows = res.rows || [];
  const items = itemsOf(rows);
  const trows = rows.map((r) => {
    const o = { rank: r.rank, code: r.store, label: storeName(ctx.storeByCode[r.store] || { code: r.store, name: r.name }),
      score: r.score, grade: r.grade ?? '' };
    (r.items || []).forEach((it, i) => { o['p:' + itemKey(it, i)] = it.points ?? null; o['v:' + itemKey(it, i)] = it.value ?? null; });
    return o;
  });
  const itemCell = (d) => (r) => {
    const v = r['v:' + d.key], p = r['p:' + d.key];
    if (d.points && d.value) {
      if (p === null || p === undefined) return fmtValue(v, d.unit);
      return t('item_cell', { v: fmtValue(v, d.unit), p: fmtNum(p, 1) });
    }
    return d.points ? fmtNum(p, 1) : fmtValue(v, d.unit);
  };
  const columns = [
    { key: 'rank', title: t('rank'), type: 'number' },
    { key: 'label', title: t('store'), type: 'text',
      render: (r) => el('a', { href: link('store.html', { code: r.code }), class: 'store-link', dataset: { store: r.code } }, r.label) },
    { key: 'score', title: t('score'), type: 'number', digits: 1 },
    { key: 'grade', title: t('grade'), type: 'text' },
    ...items.filter((d) => d.points || d.value).map((d) => ({
      key: (d.points ? 'p:' : 'v:') + d.key, item: d.key, def: d.def,
      title: d.points && !d.value ? t('item_points_title', { name: d.title }) : d.title,
      type: 'number', render: itemCell(d), exportValue: (r) => r[(d.points ? 'p:' : 'v:') + d.key],
    })),
  ];
  const box = chartBox('breakdown');
  box.id = 'breakdown';
  box.style.height = `${Math.max(240, 30 * trows.length + 70)}px`;
  const withPoints = items.filter((d) => d.points);
  const colour = (i) => ITEM_COLOURS[i % ITEM_COLOURS.length];
  const legend = el('ul', { class: 'item-legend', id: 'item-legend' },
    ...(withPoints.length ? withPoints : [{ title: t('score') }]).map((d, i) =>
      el('li', {}, swatch(colour(i)), d.title)));
  const about = res.about ? el('p', { class: 'about', id: 'about' }, res.about) : null;
  const parts = [
    panel(t('ranking'), about, el('p', { class: 'muted', id: 'elapsed' }, t('elapsed', { ms: fmtNum(res.elapsed_ms ?? 0) })),
      el('div', { id: 'ranking' }, table(columns, trows, { exportName: `scorecard-${selected || 'try'}`, sortKey: 'rank', sortDesc: false }))),
    panel(withPoints.length ? t('item_points') : t('score'), box, legend),
    panel(t('grade_distribution'), gradeView(rows)),
  ];
  if (res.log?.length) parts.push(panel(t('run_log'), el('pre', { class: 'log', id: 'run-log' }, res.log.join('\n'))));
  target.replaceChildren(...parts);
  // each store's points item by item, the best store first; the legend is the list under the chart
  const series = withPoints.length
    ? withPoints.map((d, i) => ({ name: d.title, type: 'bar', unit: 'points', stack: 'p', color: colour(i),
      data: trows.map((r) => r['p:' + d.key] ?? 0) }))
    : [{ name: t('score'), type: 'bar', unit: 'points', color: colour(0), data: trows.map((r) => r.score) }];
  chart(box, frame({ horizontal: true, legend: false, categories: trows.map((r) => r.label), series }));
}

// Inline styles through the CSSOM (the pages' CSP allows no style attributes).
function swatch(colour) {
  const e = el('span', { class: 'swatch' });
  e.style.background = colour;
  return e;
}
function sized(e, width) {
  e.style.width = width;
  return e;
}

// How many stores got each grade, best first (A, B, C, D, then any others).
function gradeView(rows) {
  const counts = new Map();
  for (const r of rows) {
    const g = r.grade === undefined || r.grade === null || r.grade === '' ? t('no_grade') : String(r.grade);
    counts.set(g, (counts.get(g) || 0) + 1);
  }
  const grades = [...counts.keys()].sort((a, b) => a.localeCompare(b, 'zh-CN'));
  const most = Math.max(1, ...counts.values());
  return el('ul', { class: 'grades', id: 'grades' }, ...grades.map((g) => el('li', { dataset: { grade: g } },
    el('span', { class: 'grade' }, g),
    el('span', { class: 'bar-track' }, sized(el('span', { class: 'bar' }), `${(100 * counts.get(g)) / most}%`)),
    el('span', { class: 'count' }, t('stores_n', { n: counts.get(g) })))));
}

function errorView(e, target) {
  const line = e instanceof ApiError ? e.details?.[0]?.line : null;
  target.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'script-error' },
    line ? `${t('line', { n: line })}: ${e.message}` : e.message));
}

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  try { list = await api('GET', '/api/v1/scorecards'); } catch (e) { showError(main, e); return; }
  const pick = el('select', { id: 'scorecard-pick', 'aria-label': t('pick_scorecard') },
    ...list.map((s) => el('option', { value: s.name, selected: s.name === selected }, `${s.title || s.name} (${s.name})`)));
  const runBtn = el('button', { class: 'btn', id: 'run', type: 'button' }, t('run'));
  const out = el('div', { id: 'result' });
  const controls = el('div', { class: 'editor-bar' }, el('span', { class: 'muted' }, t('pick_scorecard')), pick, runBtn);
  const runPanel = panel(t('run'), controls);
  runPanel.classList.add('no-print');
  const parts = [heading(t('scorecards'), period), runPanel, out];
  const show = (res) => resultView(res, out);
  if (mayEdit()) {
    const ed = editorPanel({ ctx, pick, controls, period: () => ctx.period, onResult: show, onError: (e) => errorView(e, out),
      onSaved: async (name) => {
        // the list gains the new one; the editor stays as it is
        selected = name;
        list = await api('GET', '/api/v1/scorecards');
        pick.replaceChildren(...list.map((s) => el('option', { value: s.name, selected: s.name === selected }, `${s.title || s.name} (${s.name})`)));
        pick.dispatchEvent(new Event('change'));
      } });
    parts.push(ed);
  }
  main.replaceChildren(...parts);
  const sources = new Map();
  runBtn.addEventListener('click', async () => {
    selected = pick.value;
    out.replaceChildren(el('div', { class: 'loading' }, t('loading')));
    try {
      const [res, sc] = await Promise.all([
        api('POST', `/api/v1/scorecards/${encodeURIComponent(selected)}/run?from=${period.from}&to=${period.to}`),
        sources.get(selected) || api('GET', `/api/v1/scorecards/${encodeURIComponent(selected)}`).catch(() => null),
      ]);
      if (sc) sources.set(selected, sc);
      resultView({ ...res, about: explanation(sc?.source) }, out);
    } catch (e) { errorView(e, out); }
  });
  if (selected || list.length) runBtn.click();
}

(async () => {
  try {
    ctx = await boot({ page: 'scorecards.html', title: t('scorecards'), onPeriod: render });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
