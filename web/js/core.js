// core: what every dashboard page shares: the API client (JSON, errors,
// the login redirect), the signed-in user and the catalogue, the header with
// role-aware navigation and the language switch, the period picker, number
// formats (wan/yi in Chinese, one-decimal percentages), traffic lights against targets,
// sortable tables with CSV/Excel export, and ECharts helpers. Words and
// number formats by language come from i18n.js.
import { t, locale, htmlLang, moneySteps, localized, toggleLang } from './i18n.js';

export function kpiName(def) { return def ? localized(def.name, def.id) : ''; }

// --- elements ---
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
export const $ = (sel, root = document) => root.querySelector(sel);

// The page shells hold an empty placeholder: say what it is waiting for.
// (Modules run once the document is parsed, so it is there by now.)
for (const e of document.querySelectorAll('#main > .loading:empty')) e.textContent = t('loading');

// --- API ---
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || t('http_status', { status }));
    this.status = status; this.code = body?.error?.code; this.details = body?.error?.details || [];
  }
}
export async function api(method, path, body, { raw = false, contentType } = {}) {
  const headers = {};
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string') { payload = body; headers['content-type'] = contentType || 'text/plain'; }
    else { payload = JSON.stringify(body); headers['content-type'] = 'application/json'; }
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 401 && !path.endsWith('/session')) {
    location.href = 'login.html?next=' + encodeURIComponent(location.pathname.split('/').pop() + location.search);
    throw new ApiError(401, { error: { message: t('session_expired') } });
  }
  if (raw) { if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null)); return res; }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// --- numbers ---
// Money shortened the language's way (wan and yi in Chinese, k/M/B in English).
export function fmtMoney(v) {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  const step = moneySteps().find((st) => a >= st.from);
  const n = step.div === 1 ? Math.round(v).toLocaleString(locale()) : (v / step.div).toFixed(step.digits);
  return t(step.key, { v: n });
}
export function fmtPct(v) { return v === null || v === undefined ? '—' : (v * 100).toFixed(1) + '%'; }
export function fmtNum(v, digits = 0) {
  if (v === null || v === undefined) return '—';
  return Number(v).toLocaleString(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
// A KPI value in its unit.
export function fmtValue(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  switch (unit) {
    case 'CNY': return fmtMoney(v);
    case 'ratio': return fmtPct(v);
    case 'count': return fmtNum(v);
    case 'CNY/h': return t('unit_cny_per_h', { v: fmtNum(v, 0) });
    case 'h': return t('unit_h', { v: fmtNum(v, 2) });
    case 'days': return t('unit_days', { v: fmtNum(v, 0) });
    case 'times/yr': return t('unit_times_yr', { v: fmtNum(v, 1) });
    case 'score': return fmtNum(v, 2);
    default: return fmtNum(v, 2);
  }
}
export function fmtTarget(def) {
  const tg = def?.target;
  if (tg === null || tg === undefined) return '';
  if (typeof tg === 'object') return `${fmtValue(tg.low, def.unit)}–${fmtValue(tg.high, def.unit)}`;
  const sign = def.direction === 'lower' ? '≤ ' : def.direction === 'higher' ? '≥ ' : '≈ ';
  return sign + fmtValue(tg, def.unit);
}
// 'good' | 'warn' | 'bad' | 'none' against the catalogue target.
export function targetStatus(def, v) {
  if (!def || v === null || v === undefined) return 'none';
  const tg = def.target;
  if (tg === null || tg === undefined) return 'none';
  if (typeof tg === 'object') {
    const w = (tg.high - tg.low) || Math.abs(tg.high) * 0.1 || 0.01;
    if (v >= tg.low && v <= tg.high) return 'good';
    return (v >= tg.low - w && v <= tg.high + w) ? 'warn' : 'bad';
  }
  if (def.direction === 'higher') return v >= tg ? 'good' : v >= tg * 0.9 ? 'warn' : 'bad';
  if (def.direction === 'lower') {
    if (tg === 0) return v <= 0 ? 'good' : 'bad';
    return v <= tg ? 'good' : v <= tg * 1.1 ? 'warn' : 'bad';
  }
  if (def.direction === 'band') return Math.abs(v - tg) <= Math.abs(tg) * 0.1 ? 'good' : Math.abs(v - tg) <= Math.abs(tg) * 0.25 ? 'warn' : 'bad';
  return 'none';
}
// The change from `before` to `now`: {text, cls} with cls 'up-good' / 'up-bad' / ''.
export function change(def, now, before) {
  if (now === null || now === undefined || before === null || before === undefined) return { text: '—', cls: '' };
  let text;
  if (def?.unit === 'ratio') text = t('pct_points', { v: ((now - before) * 100 >= 0 ? '+' : '') + ((now - before) * 100).toFixed(1) });
  else if (before === 0) text = '—';
  else { const r = (now - before) / Math.abs(before); text = (r >= 0 ? '+' : '') + (r * 100).toFixed(1) + '%'; }
  const better = def?.direction === 'lower' ? now < before : now > before;
  const cls = now === before || def?.direction === 'none' || def?.direction === 'band' ? '' : better ? 'better' : 'worse';
  return { text, cls };
}

// --- periods (dates as YYYY-MM-DD strings, in local calendar terms) ---
const pad = (n) => String(n).padStart(2, '0');
export const ymd = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
export function parseYmd(s) { const [y, m, d] = s.split('-').map(Number); return new Date(y, m - 1, d); }
export const endOfMonth = (y, m) => new Date(y, m + 1, 0);   // m 0-based
export function lastFullMonth(today = new Date()) {
  const first = new Date(today.getFullYear(), today.getMonth() - 1, 1);
  return { from: ymd(first), to: ymd(endOfMonth(first.getFullYear(), first.getMonth())), kind: 'month' };
}
function isWholeMonths(p) {
  const f = parseYmd(p.from), e = parseYmd(p.to);
  return f.getDate() === 1 && ymd(endOfMonth(e.getFullYear(), e.getMonth())) === p.to;
}
function monthsSpan(p) { const f = parseYmd(p.from), e = parseYmd(p.to); return (e.getFullYear() - f.getFullYear()) * 12 + e.getMonth() - f.getMonth() + 1; }
// The period of the same length just before p (whole months stay whole months).
export function previousPeriod(p) {
  if (isWholeMonths(p)) {
    const n = monthsSpan(p), f = parseYmd(p.from);
    const nf = new Date(f.getFullYear(), f.getMonth() - n, 1);
    return { from: ymd(nf), to: ymd(endOfMonth(nf.getFullYear(), nf.getMonth() + n - 1)) };
  }
  const f = parseYmd(p.from), e = parseYmd(p.to);
  const days = Math.round((e - f) / 86400000) + 1;
  return { from: ymd(new Date(f.getFullYear(), f.getMonth(), f.getDate() - days)), to: ymd(new Date(f.getFullYear(), f.getMonth(), f.getDate() - 1)) };
}
export function lastYear(p) {
  const shift = (s, end) => {
    const d = parseYmd(s);
    if (end && isWholeMonths(p)) return ymd(endOfMonth(d.getFullYear() - 1, d.getMonth()));
    const y = new Date(d.getFullYear() - 1, d.getMonth(), 1);
    return ymd(new Date(y.getFullYear(), y.getMonth(), Math.min(d.getDate(), endOfMonth(y.getFullYear(), y.getMonth()).getDate())));
  };
  return { from: shift(p.from, false), to: shift(p.to, true) };
}
// The n whole months ending with the month of `to` (clipped to `to`).
export function monthsEnding(to, n) {
  const e = parseYmd(to);
  const f = new Date(e.getFullYear(), e.getMonth() - n + 1, 1);
  return { from: ymd(f), to };
}
export function periodFromUrl() {
  const q = new URLSearchParams(location.search);
  const from = q.get('from'), to = q.get('to');
  if (from && to && /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to)
    return { from, to, kind: q.get('kind') || 'custom' };
  return lastFullMonth();
}
// A link to another page keeping the period (and extra query arguments).
// The page may carry its own query ('domain.html?d=parts'): it comes first.
export function link(page, extra = {}, period = currentPeriod) {
  const [path, own] = page.split('?');
  const q = new URLSearchParams(own);
  for (const [k, v] of Object.entries({ from: period.from, to: period.to, kind: period.kind || 'custom', ...extra })) q.set(k, v);
  return `${path}?${q}`;
}
export let currentPeriod = periodFromUrl();

function periodPicker(onChange) {
  const p = currentPeriod;
  const kind = el('select', { id: 'period-kind', 'aria-label': t('period') },
    ...['month', 'quarter', 'year', 'custom'].map((k) => el('option', { value: k, selected: p.kind === k }, t(k))));
  const month = el('input', { type: 'month', id: 'period-month', value: p.from.slice(0, 7) });
  const quarter = el('select', { id: 'period-quarter' });
  const year = el('select', { id: 'period-year' });
  const thisYear = new Date().getFullYear();
  for (let y = thisYear; y >= thisYear - 6; y--) {
    year.append(el('option', { value: y, selected: Number(p.from.slice(0, 4)) === y }, String(y)));
    for (let q = 4; q >= 1; q--) quarter.append(el('option', { value: `${y}-${q}`, selected: p.kind === 'quarter' && p.from === ymd(new Date(y, (q - 1) * 3, 1)) }, t('quarter_option', { y, q })));
  }
  const from = el('input', { type: 'date', id: 'period-from', value: p.from });
  const to = el('input', { type: 'date', id: 'period-to', value: p.to });
  const apply = el('button', { class: 'btn', id: 'period-apply', type: 'button' }, t('apply'));
  const show = () => {
    month.hidden = kind.value !== 'month'; quarter.hidden = kind.value !== 'quarter';
    year.hidden = kind.value !== 'year'; from.hidden = to.hidden = kind.value !== 'custom';
  };
  kind.addEventListener('change', show);
  show();
  apply.addEventListener('click', () => {
    let np;
    if (kind.value === 'month' && month.value) {
      const [y, m] = month.value.split('-').map(Number);
      np = { from: ymd(new Date(y, m - 1, 1)), to: ymd(endOfMonth(y, m - 1)) };
    } else if (kind.value === 'quarter') {
      const [y, q] = quarter.value.split('-').map(Number);
      np = { from: ymd(new Date(y, (q - 1) * 3, 1)), to: ymd(endOfMonth(y, (q - 1) * 3 + 2)) };
    } else if (kind.value === 'year') {
      const y = Number(year.value);
      np = { from: `${y}-01-01`, to: `${y}-12-31` };
    } else if (from.value && to.value && from.value <= to.value) {
      np = { from: from.value, to: to.value };
    } else return;
    np.kind = kind.value;
    const q = new URLSearchParams(location.search);
    q.set('from', np.from); q.set('to', np.to); q.set('kind', np.kind);
    history.replaceState(null, '', `${location.pathname}?${q}`);
    currentPeriod = np;
    onChange(np);
  });
  return el('div', { class: 'period' }, el('span', { class: 'muted' }, t('period')), kind, month, quarter, year, from, to, apply);
}

// --- the session, the catalogue and the page frame ---
// The stores and regions in scope are kept for the tab's session (they change
// with a load, rarely); the catalogue is asked for on every page, because an
// admin may change a target or a setting at any time and every page shows
// the ones in force.
async function cached(key, fn) {
  const k = 'fourscore.' + key;
  const hit = sessionStorage.getItem(k);
  if (hit) return JSON.parse(hit);
  const v = await fn();
  sessionStorage.setItem(k, JSON.stringify(v));
  return v;
}

// The header's links: page, label key, the roles that see it (all without).
// The domain pages are one page, domain.html, told its domain by ?d= (the
// domains themselves are described in domain.js).
const NAV = [
  ['index.html', 'nav_overview', ['admin', 'executive', 'regional_manager', 'store_manager']],
  ['domain.html?d=parts', 'nav_parts'], ['domain.html?d=insurance', 'nav_insurance'],
  ['domain.html?d=receivables', 'nav_receivables'], ['domain.html?d=labour', 'nav_labour'],
  ['domain.html?d=retention', 'nav_retention'],
  ['scorecards.html', 'nav_scorecards', ['admin', 'executive', 'regional_manager']],
];

// Set up a page: who is signed in, the catalogue, the stores in scope, the
// header. opts: {page (as in NAV, to mark its link), title, periodPicker:
// bool, onPeriod(p)}. Returns the context: {me, catalogue (by KPI id),
// settings (name → value in force), stores, regions, period, storeByCode,
// regionByCode}.
// Resolves once the document and its deferred scripts (the chart library)
// have run: pages load their module first and ECharts after it, deferred, so
// their first requests go out while the library is still being parsed.
export const documentReady = document.readyState === 'loading'
  ? new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }))
  : Promise.resolve();

export async function boot(opts) {
  document.documentElement.lang = htmlLang();
  const me = await api('GET', '/api/v1/me');
  const meKey = `${me.username}:${me.role}`;
  if (sessionStorage.getItem('fourscore.who') !== meKey) {
    for (const k of Object.keys(sessionStorage)) if (k.startsWith('fourscore.')) sessionStorage.removeItem(k);
    sessionStorage.setItem('fourscore.who', meKey);
  }
  const [catResp, stores, regions] = await Promise.all([
    api('GET', '/api/v1/kpis'),
    cached('stores', () => api('GET', '/api/v1/stores')),
    cached('regions', () => api('GET', '/api/v1/regions')),
  ]);
  const list = Array.isArray(catResp) ? catResp : (catResp.kpis || []);
  const catalogue = Object.fromEntries(list.map((d) => [d.id, d]));
  const ctx = { me, catalogue, settings: catResp.settings || {}, stores, regions, period: currentPeriod,
    storeByCode: Object.fromEntries(stores.map((s) => [s.code, s])),
    regionByCode: Object.fromEntries(regions.map((r) => [r.code, r])) };

  const header = el('header', { class: 'top' },
    el('a', { class: 'brand', href: link('index.html') }, t('brand')),
    el('nav', { class: 'nav' }, ...NAV.filter(([, , roles]) => !roles || roles.includes(me.role))
      .map(([href, key]) => el('a', { href: link(href), class: opts.page === href ? 'active' : '' }, t(key)))),
    el('div', { class: 'who' },
      el('span', { class: 'muted', id: 'who' }, `${me.username} · ${t('role_' + me.role)}`),
      el('button', { class: 'link', id: 'lang', type: 'button', onclick: toggleLang }, t('lang_switch')),
      el('button', { class: 'link', id: 'logout', type: 'button', onclick: async () => {
        await api('DELETE', '/api/v1/session').catch(() => {});
        sessionStorage.clear();
        location.href = 'login.html';
      } }, t('logout'))));
  document.body.prepend(header);
  document.title = `${opts.title || t('app')} · ${t('brand')}`;
  if (opts.periodPicker !== false) {
    const bar = $('#toolbar') || document.body.insertBefore(el('div', { id: 'toolbar', class: 'toolbar' }), header.nextSibling);
    bar.append(periodPicker((p) => { ctx.period = p; opts.onPeriod?.(p); }));
  }
  await documentReady;                 // charts may be drawn from here on
  return ctx;
}

// One POST /api/v1/kpi/batch for a whole page: queries [{ids, from, to, by, stores, regions}].
export async function batch(queries) {
  return api('POST', '/api/v1/kpi/batch', queries.map((q) => {
    const o = { ids: q.ids, from: q.from, to: q.to, by: q.by || 'group' };
    if (q.stores?.length) o.stores = q.stores;
    if (q.regions?.length) o.regions = q.regions;
    return o;
  }));
}
// rows of an answer keyed by key: {key: values}
export const byKey = (answer) => Object.fromEntries((answer?.rows || []).map((r) => [r.key, r]));

// Show an error in a container, in words a person can act on.
export function showError(container, e) {
  const msg = e instanceof ApiError && e.status === 403 ? t('forbidden') : `${t('error')}: ${e.message}`;
  container.replaceChildren(el('div', { class: 'error', role: 'alert' }, msg));
  console.warn(e);
}

// --- tables: sortable, traffic lights, export ---
// columns: [{key, title, type: 'text'|'kpi', def (catalogue entry for kpi), render?(row)}]
// rows: [{key values..., _link?}] ; opts: {exportName, onRowClick(row), sortKey, sortDesc}
export function table(columns, rows, opts = {}) {
  let sortKey = opts.sortKey || null, desc = opts.sortDesc ?? true;
  const wrap = el('div', { class: 'table-wrap' });
  const tools = el('div', { class: 'table-tools' },
    el('button', { class: 'btn small', type: 'button', dataset: { export: 'csv' }, onclick: () => exportTable('csv') }, t('export_csv')),
    el('button', { class: 'btn small', type: 'button', dataset: { export: 'xlsx' }, onclick: () => exportTable('xlsx') }, t('export_xlsx')));
  const tbl = el('table', { class: 'data' });
  const render = () => {
    const sorted = [...rows];
    if (sortKey) {
      sorted.sort((a, b) => {
        const x = a[sortKey], y = b[sortKey];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const c = typeof x === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
        return desc ? -c : c;
      });
    }
    const thead = el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', {
      class: (c.type === 'kpi' || c.type === 'number' ? 'num ' : '') + (sortKey === c.key ? (desc ? 'sorted desc' : 'sorted asc') : ''),
      title: c.def ? `${c.def.formula || ''}${c.def.target !== null && c.def.target !== undefined ? '\n' + t('target') + ' ' + fmtTarget(c.def) : ''}` : '',
      dataset: { key: c.key },
      onclick: () => { if (sortKey === c.key) desc = !desc; else { sortKey = c.key; desc = c.type !== 'text'; } render(); },
    }, c.title))));
    const tbody = el('tbody', {}, ...sorted.map((r) => el('tr', {
      class: opts.onRowClick ? 'clickable' : '', onclick: opts.onRowClick ? () => opts.onRowClick(r) : undefined,
    }, ...columns.map((c) => {
      if (c.render) return el('td', { class: c.type === 'text' ? '' : 'num' }, c.render(r));
      const v = r[c.key];
      if (c.type === 'kpi') {
        const st = targetStatus(c.def, v);
        return el('td', { class: 'num' }, el('span', { class: `light ${st}`, title: t(st === 'none' ? 'value' : st) }), fmtValue(v, c.def?.unit));
      }
      if (c.type === 'number') return el('td', { class: 'num' }, fmtNum(v, c.digits || 0));
      return el('td', {}, v ?? '');
    }))));
    tbl.replaceChildren(thead, tbody);
  };
  async function exportTable(format) {
    const body = {
      filename: opts.exportName || 'fourscore',
      title: opts.exportTitle || opts.exportName || t('brand'),
      columns: columns.map((c) => ({ title: c.title, type: c.type === 'kpi' ? (c.def?.unit === 'ratio' ? 'percent' : 'number') : c.type === 'number' ? 'number' : 'text' })),
      rows: rows.map((r) => columns.map((c) => (c.exportValue ? c.exportValue(r) : r[c.key] ?? null))),
    };
    const res = await api('POST', `/api/v1/export?format=${format}`, body, { raw: true });
    const blob = await res.blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: `${body.filename}.${format}` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  render();
  wrap.append(tools, tbl);
  return wrap;
}

// --- charts ---
const charts = new Set();
window.addEventListener('resize', () => { for (const c of charts) c.resize(); });
export function chart(container, option) {
  /* global echarts */
  const c = echarts.init(container, null, { renderer: 'canvas' });
  c.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
  charts.add(c);
  container.dataset.chart = 'ready';
  return c;
}
export function panel(title, ...body) {
  return el('section', { class: 'panel' }, el('h2', {}, title), ...body);
}
export function chartBox(cls = '') { return el('div', { class: 'chart ' + cls }); }
export const palette = ['#1f6feb', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
// Axis labels: whole percentages, shortened money, other numbers with the decimals their ticks need.
export function axisFormatter(unit) {
  return (v) => (unit === 'ratio' ? (v * 100).toFixed(0) + '%' : unit === 'CNY' ? fmtMoney(v)
    : Number(v).toLocaleString(locale(), { maximumFractionDigits: 2 }));
}
