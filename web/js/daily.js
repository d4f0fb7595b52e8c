// daily: the daily report, where the month stands the morning after. It covers
// [the 1st of the report day's month, the report day]; the report day is
// yesterday in the server's time zone (GET /api/v1/freshness says today:
// its as_of) unless ?day=YYYY-MM-DD names another. Per store in scope and
// for the total: ROs and service revenue to date, their targets pro-rated
// to date (targets=1), achievement, the month-end projection (to
// date ÷ days elapsed × days in the month) against the whole month's
// target, the report day's own ROs and revenue, and how far each store's
// data goes. A store behind pace (a projection below the month's target, or
// achievement below the share of the month gone) is coloured and marked ▼,
// a mark that prints in black and white. Below it, #freshness lists every
// store in scope with each entity's latest date and last import (the note
// beside every page's period picker links here). One POST /api/v1/kpi/batch
// per view.
import {
  boot, batch, el, $, table, panel, showError, heading, storeName, scopeName, currentRegion, today, addDays,
  daysBetween, parseYmd, ymd, endOfMonth, mmdd, fmtNum, fmtMoney, fmtPct, kpiName, periodState, periodNote,
} from './core.js';
import { t } from './i18n.js';

export const IDS = ['service.ro_count', 'service.revenue'];
const ENTITIES = ['repair_orders', 'vehicle_sales', 'insurance_policies', 'invoices', 'payments', 'parts_stock',
  'follow_up_calls', 'csi_surveys', 'appointments', 'store_financials'];
const main = $('#main');
let ctx;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const validDay = (d) => !!d && DAY.test(d) && ymd(parseYmd(d)) === d;
const dayFromUrl = () => { const d = new URLSearchParams(location.search).get('day'); return validDay(d) ? d : null; };

// The report's periods for a day: to date [1st, day], the whole month, the
// day itself; with the days elapsed and the days of the month.
export function reportPeriods(day) {
  const d = parseYmd(day);
  const from = ymd(new Date(d.getFullYear(), d.getMonth(), 1));
  const monthEnd = ymd(endOfMonth(d.getFullYear(), d.getMonth()));
  return { from, to: day, monthEnd, elapsed: d.getDate(), days: daysBetween(from, monthEnd) };
}
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const share = (a, b) => (num(a) === null || !num(b) ? null : a / b);

// One row of the report from the answers' rows (to date, whole month, the day).
function reportRow(p, toDate, month, onDay) {
  const out = { behind: false, targeted: false };
  for (const id of IDS) {
    const v = num(toDate?.values?.[id]), target = num(toDate?.targets?.[id]), monthTarget = num(month?.targets?.[id]);
    const projection = v === null ? null : v / p.elapsed * p.days;
    out[id] = { v, target, achievement: share(v, target), projection, monthTarget, day: num(onDay?.values?.[id]) };
    if (monthTarget !== null) {
      out.targeted = true;
      // behind pace: the projection short of the month's target, or less of it done than of the month gone
      if ((projection !== null && projection < monthTarget) || (share(v, monthTarget) ?? 0) < p.elapsed / p.days) out.behind = true;
    }
  }
  return out;
}

// A figure in a cell, its exact value kept beside it (data-v) for whoever reads the page.
const cell = (v, text, cls = '') => el('span', { class: cls || undefined, dataset: { v: v === null ? '' : String(v) } }, text);
function columns(p) {
  const fmt = { 'service.ro_count': (v) => fmtNum(v), 'service.revenue': (v) => fmtMoney(v) };
  const label = { 'service.ro_count': t('daily_ro'), 'service.revenue': t('daily_revenue') };
  const cols = [
    { key: 'label', title: t('store'), type: 'text',
      render: (r) => [r.label, r.code && r.stale ? el('small', { class: 'store-note' }, t('store_through', { d: mmdd(r.through) })) : null] },
    { key: 'through', title: t('daily_through'), type: 'text', render: (r) => (r.through ? mmdd(r.through) : t('store_no_data')) },
    { key: 'status', title: t('daily_status'), type: 'text', exportValue: (r) => statusText(r),
      render: (r) => el('span', { class: `pace ${r.behind ? 'behind' : r.targeted ? 'on-pace' : 'none'}` }, statusText(r)) },
  ];
  for (const id of IDS) {
    const m = label[id];
    const f = fmt[id];
    const col = (key, title, pick, show = f, extra = {}) => ({ key: `${id}:${key}`, title, type: 'number', ...extra,
      exportValue: (r) => pick(r[id]), render: (r) => cell(pick(r[id]), show(pick(r[id])), extra.cls?.(r[id])), });
    cols.push(
      col('v', t('daily_to_date', { m }), (x) => x.v),
      col('target', t('daily_target_to_date', { m }), (x) => x.target),
      col('achievement', t('daily_achievement', { m }), (x) => x.achievement, fmtPct,
        { exportType: 'percent', cls: (x) => (x.achievement === null ? '' : x.achievement < 1 ? 'short' : 'met') }),
      col('projection', t('daily_projection', { m }), (x) => x.projection),
      col('month_target', t('daily_month_target', { m }), (x) => x.monthTarget),
      col('day', t('daily_on_day', { m, d: mmdd(p.to) }), (x) => x.day),
    );
  }
  // the table sorts on the row's own keys: each figure is also kept flat
  return cols;
}
const statusText = (r) => (r.behind ? t('daily_behind') : r.targeted ? t('daily_on_pace') : t('daily_no_target'));
const flat = (r) => { for (const id of IDS) for (const [k, v] of Object.entries(r[id])) r[`${id}:${k === 'monthTarget' ? 'month_target' : k}`] = v; return r; };

// The day picker: the report's day (yesterday by default), typed as YYYY-MM-DD.
function dayPicker(day, onChange) {
  const input = el('input', { type: 'text', id: 'daily-day', value: day, inputmode: 'numeric', pattern: '\\d{4}-\\d{2}-\\d{2}',
    maxlength: 10, size: 10, placeholder: t('date_placeholder'), 'aria-label': t('daily_day') });
  const apply = el('button', { class: 'btn', id: 'daily-apply', type: 'button' }, t('apply'));
  apply.addEventListener('click', () => {
    const v = input.value.trim();
    input.setCustomValidity(validDay(v) ? '' : t('date_invalid'));
    if (!input.reportValidity()) return;
    const q = new URLSearchParams(location.search);
    q.set('day', v);
    history.replaceState(null, '', `${location.pathname}?${q}${location.hash}`);
    onChange(v);
  });
  return el('div', { class: 'period' }, el('span', { class: 'muted' }, t('daily_day')), input, apply);
}

// Every store's freshness: how far its data goes, per entity.
function freshnessPanel() {
  const codes = ctx.scopeCodes();
  const reach = ctx.reach();
  const stores = (ctx.fresh?.stores || []).filter((st) => codes.includes(st.store));
  const cols = [
    { key: 'label', title: t('store'), type: 'text', render: (r) => el('span', { id: `fresh-${r.code}`, class: 'anchor' }, r.label) },
    { key: 'through', title: t('daily_through'), type: 'text' },
    ...ENTITIES.map((e) => ({ key: e, title: t(`fresh_${e}`), type: 'text', exportValue: (r) => r.entities[e]?.latest ?? null,
      render: (r) => {
        const x = r.entities[e] || {};
        return [x.latest || '—', x.imported_at ? el('small', { class: 'imported' }, t('fresh_imported', { t: x.imported_at.slice(5, 16) })) : null];
      } })),
  ];
  const rows = stores.map((st) => ({ code: st.store, label: storeName({ name: st.name, code: st.store }), through: st.through || '—',
    entities: st.entities || {}, stale: !st.through || st.through < reach.through }));
  const p = panel(t('freshness_title'), el('p', { class: 'muted' }, t('freshness_hint')),
    table(cols, rows, { exportName: `freshness-${today()}`, exportTitle: t('freshness_title'), rowClass: (r) => (r.stale ? 'stale' : '') }));
  p.id = 'freshness';
  return p;
}

async function render(day) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const p = reportPeriods(day);
  const scope = currentRegion ? { regions: [currentRegion] } : {};
  const q = (from, to, by) => ({ ids: IDS, from, to, by, ...scope, targets: true });
  let answers;
  try {
    answers = await batch([q(p.from, p.to, 'store'), q(p.from, p.monthEnd, 'store'), q(p.to, p.to, 'store'),
      q(p.from, p.to, 'group'), q(p.from, p.monthEnd, 'group'), q(p.to, p.to, 'group')]);
  } catch (e) { showError(main, e); return; }
  const [toDate, month, onDay, gToDate, gMonth, gDay] = answers;
  const byKey = (a) => Object.fromEntries(a.rows.map((r) => [r.key, r]));
  const m = byKey(month), d = byKey(onDay);
  const freshBy = Object.fromEntries((ctx.fresh?.stores || []).map((st) => [st.store, st]));
  const rows = toDate.rows.map((r) => {
    const through = freshBy[r.key]?.through ?? null;
    return flat({ code: r.key, label: storeName(ctx.storeByCode[r.key] || { name: r.label, code: r.key }), through,
      stale: !through || through < p.to, ...reportRow(p, r, m[r.key], d[r.key]) });
  });
  const reach = ctx.reach();
  const total = flat({ code: null, label: t('daily_total', { name: scopeName(ctx) }), through: reach.through, stale: false,
    ...reportRow(p, gToDate.rows[0], gMonth.rows[0], gDay.rows[0]) });
  const hint = el('p', { class: 'muted', id: 'daily-hint' },
    t('daily_hint', { e: p.elapsed, n: p.days, p: fmtPct(p.elapsed / p.days) }));
  const names = IDS.map((id) => kpiName(ctx.catalogue[id])).join(' / ');
  const report = panel(t('daily_table'), hint, table(columns(p), rows, {
    exportName: `daily-${p.to}`, exportTitle: `${t('nav_daily')} ${p.from} ~ ${p.to}`, pinned: [total],
    rowClass: (r) => [r.code ? '' : 'total', r.behind ? 'behind' : ''].filter(Boolean).join(' '),
  }));
  report.id = 'daily';
  // a report day past the data: said above the table (each store's own date is in its row)
  const note = periodNote(periodState({ from: p.from, to: p.to }, reach.through));
  main.replaceChildren(...[heading(t('nav_daily'), { from: p.from, to: p.to }, names), note, report, freshnessPanel()].filter(Boolean));
  main.dataset.day = p.to;
  if (location.hash.startsWith('#fresh')) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

(async () => {
  try {
    ctx = await boot({ page: 'daily.html', title: t('nav_daily'), periodPicker: false, regionPicker: true,
      onRegion: () => render(ctx.day) });
    ctx.day = dayFromUrl() || addDays(today(), -1);
    $('#toolbar').prepend(dayPicker(ctx.day, (v) => { ctx.day = v; render(v); }));
    await render(ctx.day);
  } catch (e) { showError(main, e); }
})();
