// core: what every dashboard page shares: the API client (JSON, errors,
// the login redirect), the signed-in user and the catalogue, the header with
// role-aware navigation (a menu on a phone), the bell of open alerts and the language switch, the
// toolbar (period picker, region filter, the PDF button), the print header, number
// formats (wan/yi in Chinese, one-decimal percentages), traffic lights
// against targets, sortable tables with CSV/Excel export, and how far the
// data goes (GET /api/v1/freshness: the note beside the period picker, the
// default period, a period that runs past the data and the comparisons cut
// to match it). Charts are framed by charts.js. Words and number formats by
// language come from i18n.js.
import { t, locale, htmlLang, moneySteps, localized, toggleLang, placeName } from './i18n.js';

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
// A change shown with one decimal and its sign; one that rounds to nothing reads ±0.0.
const signed = (x) => { const s = x.toFixed(1); return Number(s) === 0 ? '±0.0' : (x > 0 ? '+' : '') + s; };
export function change(def, now, before) {
  if (now === null || now === undefined || before === null || before === undefined) return { text: '—', cls: '' };
  let text, shown;
  if (def?.unit === 'ratio') { shown = (now - before) * 100; text = t('pct_points', { v: signed(shown) }); }
  else if (before === 0) text = '—';
  else { shown = (now - before) / Math.abs(before) * 100; text = signed(shown) + '%'; }
  const better = def?.direction === 'lower' ? now < before : now > before;
  const flat = now === before || (shown !== undefined && Number(shown.toFixed(1)) === 0);
  const cls = flat || def?.direction === 'none' || def?.direction === 'band' ? '' : better ? 'better' : 'worse';
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
function urlPeriod() {
  const q = new URLSearchParams(location.search);
  const from = q.get('from'), to = q.get('to');
  if (from && to && /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to)
    return { from, to, kind: q.get('kind') || 'custom' };
  return null;
}
export function periodFromUrl() { return urlPeriod() || lastFullMonth(); }
// Whether the address names the period (else boot() picks the default from
// how far the data goes: defaultPeriod below).
export const periodGiven = urlPeriod() !== null;
export let currentPeriod = periodFromUrl();
// The region the page is filtered to (?region=CODE), or null: the whole scope.
export let currentRegion = new URLSearchParams(location.search).get('region') || null;
// A link to another page keeping the period and the region filter (and extra
// query arguments; an extra argument set to null is dropped). The page may
// carry its own query ('domain.html?d=parts'): it comes first.
export function link(page, extra = {}, period = currentPeriod) {
  const [path, own] = page.split('?');
  const q = new URLSearchParams(own);
  const args = { from: period.from, to: period.to, kind: period.kind || 'custom', ...(currentRegion ? { region: currentRegion } : {}), ...extra };
  for (const [k, v] of Object.entries(args)) if (v === null || v === undefined) q.delete(k); else q.set(k, v);
  return `${path}?${q}`;
}
// Write the view's arguments into the address (without a reload).
function setQuery(args) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(args)) if (v === null || v === undefined) q.delete(k); else q.set(k, v);
  history.replaceState(null, '', `${location.pathname}?${q}${location.hash}`);
}

// The period picker: month (a year and a month, named in the page's
// language, not the browser's), quarter, year, or custom dates (typed as
// YYYY-MM-DD, the form every page shows).
const DATE = /^\d{4}-\d{2}-\d{2}$/;
function periodPicker(onChange) {
  const p = currentPeriod;
  const kind = el('select', { id: 'period-kind', 'aria-label': t('period') },
    ...['month', 'quarter', 'year', 'custom'].map((k) => el('option', { value: k, selected: p.kind === k }, t(k))));
  const thisYear = new Date().getFullYear();
  const years = Array.from({ length: 7 }, (_, i) => thisYear - i);
  const fromYear = Number(p.from.slice(0, 4)), fromMonth = Number(p.from.slice(5, 7));
  const yearOptions = () => years.map((y) => el('option', { value: y, selected: fromYear === y }, t('year_option', { y })));
  const monthYear = el('select', { id: 'period-month-year', 'aria-label': t('year') }, ...yearOptions());
  const monthOf = el('select', { id: 'period-month', 'aria-label': t('month') },
    ...Array.from({ length: 12 }, (_, i) => el('option', { value: i + 1, selected: fromMonth === i + 1 }, t(`month_${i + 1}`))));
  const month = el('span', { class: 'month-picker' }, monthYear, monthOf);
  const quarter = el('select', { id: 'period-quarter', 'aria-label': t('quarter') });
  const year = el('select', { id: 'period-year', 'aria-label': t('year') }, ...yearOptions());
  for (const y of years) {
    for (let q = 4; q >= 1; q--) quarter.append(el('option', { value: `${y}-${q}`, selected: p.kind === 'quarter' && p.from === ymd(new Date(y, (q - 1) * 3, 1)) }, t('quarter_option', { y, q })));
  }
  const dateInput = (id, value, label) => el('input', { type: 'text', id, value, inputmode: 'numeric', pattern: '\\d{4}-\\d{2}-\\d{2}',
    maxlength: 10, size: 10, placeholder: t('date_placeholder'), 'aria-label': label });
  const from = dateInput('period-from', p.from, t('date_from'));
  const to = dateInput('period-to', p.to, t('date_to'));
  const custom = el('span', { class: 'custom-picker' }, from, el('span', { class: 'muted' }, '~'), to);
  const apply = el('button', { class: 'btn', id: 'period-apply', type: 'button' }, t('apply'));
  const show = () => {
    month.hidden = kind.value !== 'month'; quarter.hidden = kind.value !== 'quarter';
    year.hidden = kind.value !== 'year'; custom.hidden = kind.value !== 'custom';
  };
  kind.addEventListener('change', show);
  show();
  apply.addEventListener('click', () => {
    let np;
    if (kind.value === 'month') {
      const y = Number(monthYear.value), m = Number(monthOf.value);
      np = { from: ymd(new Date(y, m - 1, 1)), to: ymd(endOfMonth(y, m - 1)) };
    } else if (kind.value === 'quarter') {
      const [y, q] = quarter.value.split('-').map(Number);
      np = { from: ymd(new Date(y, (q - 1) * 3, 1)), to: ymd(endOfMonth(y, (q - 1) * 3 + 2)) };
    } else if (kind.value === 'year') {
      const y = Number(year.value);
      np = { from: `${y}-01-01`, to: `${y}-12-31` };
    } else {
      const ok = (inp) => DATE.test(inp.value.trim()) && ymd(parseYmd(inp.value.trim())) === inp.value.trim();
      for (const inp of [from, to]) inp.setCustomValidity(ok(inp) ? '' : t('date_invalid'));
      if (ok(from) && ok(to) && from.value.trim() > to.value.trim()) to.setCustomValidity(t('date_order'));
      if (!from.reportValidity() || !to.reportValidity()) return;
      np = { from: from.value.trim(), to: to.value.trim() };
    }
    np.kind = kind.value;
    setQuery({ from: np.from, to: np.to, kind: np.kind });
    currentPeriod = np;
    onChange(np);
  });
  return el('div', { class: 'period' }, el('span', { class: 'muted' }, t('period')), kind, month, quarter, year, custom, apply);
}

// The region filter: the whole scope or one of its regions (GET
// /api/v1/regions gives the caller's). Shown when the scope holds more
// than one region.
function regionPicker(regions, onChange) {
  const pick = el('select', { id: 'region-filter', 'aria-label': t('region') },
    el('option', { value: '' }, t('all_regions')),
    ...regions.map((r) => el('option', { value: r.code, selected: r.code === currentRegion }, placeName(r.name, r.code))));
  pick.addEventListener('change', () => {
    currentRegion = pick.value || null;
    setQuery({ region: currentRegion });
    onChange(currentRegion);
  });
  return el('label', { class: 'region-pick' }, el('span', { class: 'muted' }, t('region')), pick);
}

// --- how far the data goes (GET /api/v1/freshness) ---
// Asked once per page, beside the session: {as_of (today in the server's
// FOURSCORE_TZ), stores: [{store, name, through, entities}]}; null when it
// could not be had (the pages then say nothing about it and keep the
// browser's calendar).
let freshnessAsk = null;
export function freshness() {
  freshnessAsk ??= api('GET', '/api/v1/freshness').catch((e) => { console.warn(e); return null; });
  return freshnessAsk;
}
let fresh = null;                      // the answer, once boot() has it
let scopeThrough = null;               // how far the data of the page's stores goes
// Today as the server counts it (its as_of), else the browser's.
export const today = () => fresh?.as_of || ymd(new Date());
export const addDays = (s, n) => { const d = parseYmd(s); return ymd(new Date(d.getFullYear(), d.getMonth(), d.getDate() + n)); };
// Days from a to b, both counted.
export const daysBetween = (a, b) => Math.round((parseYmd(b) - parseYmd(a)) / 86400000) + 1;
export const mmdd = (s) => (s ? s.slice(5) : '—');
// How far the data of some stores goes (codes; null: every store of the
// answer): {stores, through: the latest `through` among them (null when none
// has data), every: the earliest when every one has data (else null),
// stale: the stores whose data stops before `through` or that have none}.
export function dataReach(codes = null, answer = fresh) {
  const stores = (answer?.stores || []).filter((st) => !codes || codes.includes(st.store));
  const through = stores.reduce((m, st) => (st.through && (!m || st.through > m) ? st.through : m), null);
  const every = stores.length && stores.every((st) => st.through)
    ? stores.reduce((m, st) => (!m || st.through < m ? st.through : m), null) : null;
  return { stores, through, every, stale: stores.filter((st) => !st.through || st.through < through), known: !!answer };
}
// The default period: the last full month whose data every store of the
// scope has; when there is none (a store without data), the last full month
// before today (the note beside the picker names the stores behind).
export function defaultPeriod(reach, asOf = today()) {
  const last = lastFullMonth(parseYmd(asOf));
  if (!reach.every) return last;
  const d = parseYmd(reach.every);
  const m = ymd(endOfMonth(d.getFullYear(), d.getMonth())) === reach.every ? d.getMonth() : d.getMonth() - 1;
  const first = new Date(d.getFullYear(), m, 1);
  const p = { from: ymd(first), to: ymd(endOfMonth(first.getFullYear(), first.getMonth())), kind: 'month' };
  return p.to < last.to ? p : last;
}
// What the data holds of a period, for stores whose data goes to `through`:
// {through, incomplete: the data stops inside it (or before it), empty: no
// data in it at all, days: the period's days with data, query: the period
// to ask the KPIs for (cut at the data's end, so that an as-of KPI is read
// where the data stops)}. Unknown freshness: the period as it is.
export function periodState(period, through = scopeThrough, known = !!fresh) {
  const whole = { through, incomplete: false, empty: false, days: daysBetween(period.from, period.to), query: period };
  if (!known || (through && through >= period.to)) return whole;
  if (!through || through < period.from) return { ...whole, incomplete: true, empty: true, days: 0 };
  return { ...whole, incomplete: true, days: daysBetween(period.from, through), query: { ...period, to: through } };
}
// A comparison period cut to as many days as the period compared has data
// (like with like: November 1–15 against October 1–15).
export function cutTo(p, state) {
  if (!state.incomplete || state.empty) return p;
  const to = addDays(p.from, state.days - 1);
  return { from: p.from, to: to < p.to ? to : p.to };
}
// The note of a period the data does not cover (null when it does);
// compared: the page compares periods (cut to the same days: cutTo).
export function periodNote(state, compared = false) {
  if (!state.incomplete) return null;
  const text = state.empty ? (state.through ? t('period_no_data', { d: state.through }) : t('period_no_data_none'))
    : t('period_incomplete', { d: mmdd(state.through) });
  return el('div', { class: 'period-note', id: 'period-note', role: 'note' }, el('span', { class: 'mark', 'aria-hidden': 'true' }, '◐ '), text,
    compared && !state.empty ? el('span', { class: 'muted' }, ' · ', t('compare_days', { n: state.days })) : null);
}
// A store's own note in a table row: where its data stops, when that is inside the period.
export function storeDataNote(code, period) {
  const st = fresh?.stores.find((x) => x.store === code);
  if (!st || (st.through && st.through >= period.to)) return null;
  return el('small', { class: 'store-note', dataset: { through: st.through || '' } },
    st.through ? t('store_through', { d: mmdd(st.through) }) : t('store_no_data'));
}
// Where a store's freshness is listed: the freshness section of the daily report.
export const freshLink = (code) => `${link('daily.html', { from: null, to: null, kind: null }).replace(/\?$/, '')}#fresh-${encodeURIComponent(code)}`;
// The note beside the period picker: how far the data goes, and the stores behind.
function freshnessNote(reach) {
  if (!reach.known) return el('div', { class: 'freshness-note', id: 'freshness-note', hidden: true });
  const parts = [el('span', { id: 'fresh-through' }, reach.through ? t('data_through', { d: mmdd(reach.through) }) : t('data_none'))];
  if (reach.through && reach.stale.length) {
    const named = reach.stale.slice(0, 5).flatMap((st, i) => [i ? t('list_sep') : '',
      el('a', { href: freshLink(st.store), dataset: { store: st.store } }, storeName({ name: st.name, code: st.store }))]);
    parts.push(el('span', { class: 'stale', id: 'fresh-stale' }, el('span', { 'aria-hidden': 'true' }, '⚠ '),
      t('stores_behind', { n: reach.stale.length, d: mmdd(reach.through) }), ...named, reach.stale.length > 5 ? '…' : ''));
  }
  return el('div', { class: 'freshness-note', id: 'freshness-note' }, ...parts);
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
// The role of who signed in this tab, as last seen (null before the first page).
export function lastRole() { return (sessionStorage.getItem('fourscore.who') || '').split(':')[1] || null; }

// The domain pages are one page, domain.html, told its domain by ?d= (the
// domains themselves are described in domain.js); a KPI's domain is the
// first part of its id.
export const DOMAINS = ['service', 'parts', 'insurance', 'receivables', 'labour', 'retention', 'csi', 'sales'];
// The five SERVQUAL dimensions behind csi.score, in the order of their weights.
export const CSI_DIMENSIONS = ['csi.reliability', 'csi.responsiveness', 'csi.assurance', 'csi.empathy', 'csi.tangibles'];
export const domainOf = (kpiId) => (DOMAINS.includes(kpiId.split('.')[0]) ? kpiId.split('.')[0] : null);
// The header's links: [page, label key]. A store manager's first page is
// their store; scorecards are for the others, the alert rules for admins and
// regional managers; the alerts page is the bell's (below).
function navLinks(ctx) {
  const role = ctx.me.role;
  const home = role === 'store_manager' && ctx.stores.length === 1
    ? [`store.html?code=${encodeURIComponent(ctx.stores[0].code)}`, 'nav_my_store']
    : ['index.html', role === 'regional_manager' ? 'nav_region_overview' : 'nav_overview'];
  const manages = role === 'admin' || role === 'regional_manager';
  return [home, ['daily.html', 'nav_daily'], ...DOMAINS.map((d) => [`domain.html?d=${d}`, `nav_${d}`]),
    ...(role === 'store_manager' ? [] : [['scorecards.html', 'nav_scorecards']]),
    ...(manages ? [['alert-rules.html', 'nav_alert_rules']] : []),
    ['subscriptions.html', 'nav_subscriptions']];
}
// The bell beside the user's name: the count of open alerts in scope (one GET
// /api/v1/alerts of its own, after the header is drawn; no count when it
// fails), a link to the alerts page.
const SVG = 'http://www.w3.org/2000/svg';
function bell(active) {
  const icon = document.createElementNS(SVG, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', 'M12 2a6 6 0 0 0-6 6v4.2L4 16v1h16v-1l-2-3.8V8a6 6 0 0 0-6-6zm-2.5 16a2.5 2.5 0 0 0 5 0z');
  icon.append(path);
  const count = el('span', { class: 'bell-count', id: 'bell-count', hidden: true });
  const a = el('a', { class: `bell${active ? ' active' : ''}`, id: 'bell', href: 'alerts.html?state=open', title: t('nav_alerts'),
    'aria-label': t('nav_alerts') }, icon, count);
  api('GET', '/api/v1/alerts?state=open&limit=1000').then((list) => {
    const n = list.length;
    count.textContent = n >= 1000 ? '999+' : String(n);
    count.hidden = n === 0;
    a.dataset.count = String(n);
    a.title = t('bell_label', { n });
    a.setAttribute('aria-label', t('bell_label', { n }));
  }).catch((e) => console.warn(e));
  return a;
}
// Whose figures a total is: the group's, the region's (by its name), or the store's.
export function scopeName(ctx) {
  if (currentRegion && ctx.regionByCode[currentRegion]) return placeName(ctx.regionByCode[currentRegion].name, currentRegion);
  if (ctx.me.role === 'store_manager' && ctx.stores.length === 1) return placeName(ctx.stores[0].name, ctx.stores[0].code);
  if (ctx.me.role === 'regional_manager' && ctx.regions.length) return ctx.regions.map((r) => placeName(r.name, r.code)).join(t('list_sep'));
  return t('group');
}

// Set up a page: who is signed in, the catalogue, the stores in scope, the
// header. opts: {page (as in the nav, to mark its link), title,
// periodPicker: bool, regionPicker: bool, onPeriod(p), onRegion(code)}.
// Returns the context: {me, catalogue (by KPI id), settings (name → value
// in force), stores, regions, period, region, storeByCode, regionByCode}.
// Resolves once the document and its deferred scripts (the chart library)
// have run: pages load their module first and ECharts after it, deferred, so
// their first requests go out while the library is still being parsed.
// A page's module runs once the document is parsed (readyState 'interactive'),
// before the deferred chart library that follows it: only DOMContentLoaded
// (or the load event) says that the library has run too.
export const documentReady = new Promise((resolve) => {
  if (document.readyState === 'complete') { resolve(); return; }
  document.addEventListener('DOMContentLoaded', resolve, { once: true });
  window.addEventListener('load', resolve, { once: true });
});

export async function boot(opts) {
  document.documentElement.lang = htmlLang();
  // (freshness is asked once the session is known good: signed out, only /me answers 401)
  const me = await api('GET', '/api/v1/me');
  const freshAsk = freshness();
  const meKey = `${me.username}:${me.role}`;
  if (sessionStorage.getItem('fourscore.who') !== meKey) {
    for (const k of Object.keys(sessionStorage)) if (k.startsWith('fourscore.')) sessionStorage.removeItem(k);
    sessionStorage.setItem('fourscore.who', meKey);
  }
  const [catResp, stores, regions, freshAnswer] = await Promise.all([
    api('GET', '/api/v1/kpis'),
    cached('stores', () => api('GET', '/api/v1/stores')),
    cached('regions', () => api('GET', '/api/v1/regions')),
    freshAsk,
  ]);
  fresh = freshAnswer;
  const list = Array.isArray(catResp) ? catResp : (catResp.kpis || []);
  const catalogue = Object.fromEntries(list.map((d) => [d.id, d]));
  const ctx = { me, catalogue, settings: catResp.settings || {}, stores, regions, period: currentPeriod,
    storeByCode: Object.fromEntries(stores.map((s) => [s.code, s])),
    regionByCode: Object.fromEntries(regions.map((r) => [r.code, r])) };
  if (currentRegion && !ctx.regionByCode[currentRegion]) currentRegion = null;   // out of scope: the whole scope
  ctx.region = currentRegion;
  // the page's stores (opts.scopeStores(ctx): codes; else the scope, or its region)
  // and how far their data goes; no period in the address: the default one
  ctx.fresh = fresh;
  ctx.scopeCodes = () => opts.scopeStores?.(ctx)
    || stores.filter((st) => !currentRegion || st.region === currentRegion).map((st) => st.code);
  ctx.reach = () => dataReach(ctx.scopeCodes());
  scopeThrough = ctx.reach().through;
  if (!periodGiven && fresh) { currentPeriod = defaultPeriod(ctx.reach()); ctx.period = currentPeriod; }

  const links = navLinks(ctx);
  const nav = el('nav', { class: 'nav', id: 'nav' }, ...links
    .map(([href, key]) => el('a', { href: link(href), dataset: { page: href }, class: opts.page === href || opts.page === href.split('?')[0] ? 'active' : '' }, t(key))));
  const menu = el('button', { class: 'menu-toggle', id: 'menu-toggle', type: 'button', 'aria-controls': 'nav', 'aria-expanded': 'false',
    onclick: () => menu.setAttribute('aria-expanded', String(nav.classList.toggle('open'))) },
  el('span', { class: 'bars', 'aria-hidden': 'true' }), t('menu'));
  const header = el('header', { class: 'top' },
    el('a', { class: 'brand', href: link(links[0][0]), dataset: { page: links[0][0] } }, t('brand')), menu, nav,
    el('div', { class: 'who' },
      bell(opts.page === 'alerts.html'),
      el('span', { class: 'muted', id: 'who' }, `${me.username} · ${t('role_' + me.role)}`),
      el('button', { class: 'link', id: 'lang', type: 'button', onclick: toggleLang }, t('lang_switch')),
      el('button', { class: 'link', id: 'logout', type: 'button', onclick: async () => {
        await api('DELETE', '/api/v1/session').catch(() => {});
        sessionStorage.clear();
        location.href = 'login.html';
      } }, t('logout'))));
  document.body.prepend(header);
  document.body.prepend(el('div', { class: 'print-header', id: 'print-header' }));
  document.title = `${opts.title || t('app')} · ${t('brand')}`;
  const bar = $('#toolbar') || document.body.insertBefore(el('div', { id: 'toolbar', class: 'toolbar' }), header.nextSibling);
  // the header's links follow the period and the region the view moves to
  const relink = () => { for (const a of header.querySelectorAll('a[data-page]')) a.href = link(a.dataset.page); };
  if (opts.periodPicker !== false) bar.append(periodPicker((p) => { ctx.period = p; relink(); opts.onPeriod?.(p); }));
  let note = freshnessNote(ctx.reach());
  bar.append(note);
  if (opts.regionPicker && regions.length > 1) {
    bar.append(regionPicker(regions, (code) => {
      ctx.region = code; relink();
      scopeThrough = ctx.reach().through;
      const next = freshnessNote(ctx.reach());
      note.replaceWith(next); note = next;
      (opts.onRegion || opts.onPeriod)?.(ctx.period);
    }));
  }
  bar.append(el('button', { class: 'btn secondary print-button', id: 'export-pdf', type: 'button', title: t('export_pdf_hint'),
    onclick: () => window.print() }, t('export_pdf')));
  await documentReady;                 // charts may be drawn from here on
  return ctx;
}

// The page's heading: its title and period on the screen, and the print
// header above the printed page (title, period, the date the figures run
// to: the period's end, or today while the period runs, or where the data
// stops when that is earlier). Sets the window's title too.
export function heading(title, period, ...more) {
  document.title = `${title} · ${t('brand')}`;
  const asOf = [period.to, today(), scopeThrough].filter(Boolean).sort()[0];
  $('#print-header')?.replaceChildren(
    el('b', {}, `${t('brand')} · ${title}`),
    el('span', {}, `${t('period')} ${period.from} ~ ${period.to}`),
    el('span', {}, t('data_as_of', { d: asOf })));
  return el('h1', {}, title, el('small', {}, [...more, `${period.from} ~ ${period.to}`].filter(Boolean).join(' · ')));
}
// The heading of a page that shows no period (alerts, rules, subscriptions):
// its title and, on paper, the date it was printed.
export function plainHeading(title, ...more) {
  document.title = `${title} · ${t('brand')}`;
  $('#print-header')?.replaceChildren(el('b', {}, `${t('brand')} · ${title}`), el('span', {}, t('printed_on', { d: today() })));
  return el('h1', {}, title, more.length ? el('small', {}, more.filter(Boolean).join(' · ')) : null);
}
// A store's name as the page shows it (with its code in a language the data has no name in).
export const storeName = (s) => placeName(s?.name, s?.code);

// One POST /api/v1/kpi/batch for a whole page: queries [{ids, from, to, by, stores, regions, targets}].
export async function batch(queries) {
  return api('POST', '/api/v1/kpi/batch', queries.map((q) => {
    const o = { ids: q.ids, from: q.from, to: q.to, by: q.by || 'group' };
    if (q.stores?.length) o.stores = q.stores;
    if (q.regions?.length) o.regions = q.regions;
    if (q.targets) o.targets = true;
    return o;
  }));
}
// The group's benchmarks of KPIs for a period (GET /api/v1/benchmarks, over
// every store of the group): {values: {id: {stores, group, p25, median, p75}}},
// or {off: true} when an admin has switched them off (403 benchmarks_off),
// or {values: {}} when they cannot be had (the page then draws none).
export async function benchmarks(ids, period) {
  const list = ids.filter(Boolean);
  if (!list.length) return { values: {} };
  try {
    return await api('GET', `/api/v1/benchmarks?ids=${list.map(encodeURIComponent).join(',')}&from=${period.from}&to=${period.to}`);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'benchmarks_off') return { off: true, values: {} };
    console.warn(e);
    return { values: {} };
  }
}
// A KPI's benchmark pair: {median, top} (top: p75, or p25 where lower is
// better; none for a band or a KPI without a direction), or null when the
// group has too few stores with a value (the answer's nulls).
export function benchmarkOf(def, b) {
  if (!b || typeof b.median !== 'number') return null;
  const top = def?.direction === 'higher' ? b.p75 : def?.direction === 'lower' ? b.p25 : null;
  return { median: b.median, top: typeof top === 'number' ? top : null };
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
// rows: [{key values..., _link?}] ; opts: {exportName, onRowClick(row), sortKey, sortDesc,
// pinned (rows kept first, unsorted: a total), foot (rows of the table's foot, e.g. the
// group's benchmarks), rowClass(row) (a class for a row's <tr>)}. A column may carry
// exportValue(row) (the cell in the export) and render(row) (its content on the page).
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
    const line = (r, clickable = true) => el('tr', {
      class: [clickable && opts.onRowClick ? 'clickable' : '', opts.rowClass?.(r) || ''].filter(Boolean).join(' ') || undefined,
      onclick: clickable && opts.onRowClick ? () => opts.onRowClick(r) : undefined,
    }, ...columns.map((c) => {
      if (c.render) return el('td', { class: c.type === 'text' ? '' : 'num' }, c.render(r));
      const v = r[c.key];
      if (c.type === 'kpi') {
        const st = targetStatus(c.def, v);
        return el('td', { class: 'num' }, el('span', { class: `light ${st}`, title: t(st === 'none' ? 'value' : st) }), fmtValue(v, c.def?.unit));
      }
      if (c.type === 'number') return el('td', { class: 'num' }, fmtNum(v, c.digits || 0));
      return el('td', {}, v ?? '');
    }));
    const tbody = el('tbody', {}, ...(opts.pinned || []).map((r) => line(r)), ...sorted.map((r) => line(r)));
    tbl.replaceChildren(thead, tbody);
    if (opts.foot?.length) tbl.append(el('tfoot', {}, ...opts.foot.map((r) => line(r, false))));
  };
  async function exportTable(format) {
    const body = {
      filename: opts.exportName || 'fourscore',
      title: opts.exportTitle || opts.exportName || t('brand'),
      columns: columns.map((c) => ({ title: c.title, type: c.exportType || (c.type === 'kpi' ? (c.def?.unit === 'ratio' ? 'percent' : 'number') : c.type === 'number' ? 'number' : 'text') })),
      rows: [...(opts.pinned || []), ...rows, ...(opts.foot || [])].map((r) => columns.map((c) => (c.exportValue ? c.exportValue(r) : r[c.key] ?? null))),
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

// A titled section of a page.
export function panel(title, ...body) {
  return el('section', { class: 'panel' }, el('h2', {}, title), ...body);
}
