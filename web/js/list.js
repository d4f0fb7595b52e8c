// list: one list of the catalogue (the rows behind a number of the
// dashboards: the at-risk vehicles behind the at-risk count, the overdue
// invoices behind the overdue amount, ...), list.html?id=<list>&from=&to=[&stores=|&regions=]. A
// table of the list's columns (named by the catalogue, in the page's
// language), sorted on the server by a click on a heading (again: the other
// way), paged, filtered to one store of the caller's scope; above it the
// total and the sums of the money columns over every row, and the Excel and
// CSV exports of the whole list (GET /api/v1/list/export, in the order shown).
// A period list (comebacks, complaints) is of from..to; an as-of list is as
// of `to`. Phones come from the server whole or masked as the caller may see
// them. The sort, the page and the store are kept in the address, so a list
// can be bookmarked and sent. One GET /api/v1/list per view.
import './list-url.js';
import { boot, api, el, $, showError, heading, storeName, fmtNum, fmtMoney, currentPeriod, scopeName } from './core.js';
import { t, lang, localized, placeName } from './i18n.js';
import { listsReady } from './lists-link.js';

export const PAGE_SIZES = [50, 100, 200, 500];
const DEFAULT_SIZE = 50;

const query = new URLSearchParams(location.search);
const id = query.get('id') || '';
const split = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);
const state = {
  stores: split(query.get('stores')),
  // the region filter of the other pages (?region=) narrows the list too
  regions: split(query.get('regions') || query.get('region')),
  sort: query.get('sort') || null,
  order: query.get('order') === 'desc' ? 'desc' : 'asc',
  limit: PAGE_SIZES.includes(Number(query.get('limit'))) ? Number(query.get('limit')) : DEFAULT_SIZE,
  offset: Math.max(0, Math.floor(Number(query.get('offset'))) || 0),
};
const main = $('#main');
let ctx, def, period = currentPeriod;

// Write the view's arguments into the address (without a reload).
function remember() {
  const q = new URLSearchParams(location.search);
  const set = (k, v) => (v === null || v === undefined || v === '' ? q.delete(k) : q.set(k, v));
  set('stores', state.stores.join(','));
  set('regions', state.regions.join(','));
  q.delete('region');
  set('sort', state.sort);
  set('order', state.sort ? state.order : null);
  set('limit', state.limit === DEFAULT_SIZE ? null : state.limit);
  set('offset', state.offset || null);
  history.replaceState(null, '', `${location.pathname}?${q}${location.hash}`);
}

// The request's parameters: the list, its dates, the stores (else the regions), the order.
function params(paged) {
  const p = new URLSearchParams({ id });
  if (!def.as_of) p.set('from', period.from);
  p.set('to', period.to);
  if (state.stores.length) p.set('stores', state.stores.join(','));
  else if (state.regions.length) p.set('regions', state.regions.join(','));
  if (state.sort) { p.set('sort', state.sort); p.set('order', state.order); }
  if (paged) { p.set('limit', state.limit); p.set('offset', state.offset); }
  return p;
}

// Whose rows these are: one store's, the chosen stores', the region's, or the whole scope's.
function whose() {
  if (state.stores.length === 1) return storeName(ctx.storeByCode[state.stores[0]] || { code: state.stores[0] });
  if (state.stores.length > 1) return t('list_selected_stores', { n: state.stores.length });
  if (state.regions.length) return state.regions.map((r) => placeName(ctx.regionByCode[r]?.name, r)).join(t('list_sep'));
  return scopeName(ctx);
}

// A cell as the page shows it: money with two decimals, counts whole, yes/no, text as it is.
function cell(col, v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return t(v ? 'yes' : 'no');
  if (typeof v === 'number') return fmtNum(v, col.unit === 'CNY' ? 2 : Number.isInteger(v) ? 0 : 2);
  return String(v);
}

// The store filter: the whole scope (or the region asked for), the stores asked for, or one store.
function storePicker() {
  const inScope = ctx.stores.filter((s) => !state.regions.length || state.regions.includes(s.region));
  const pick = el('select', { id: 'list-store', 'aria-label': t('store') },
    el('option', { value: '' }, state.regions.length ? whoseRegions() : t('all_stores')),
    state.stores.length > 1 ? el('option', { value: '*', selected: true }, t('list_selected_stores', { n: state.stores.length })) : null,
    ...inScope.map((s) => el('option', { value: s.code, selected: state.stores.length === 1 && state.stores[0] === s.code }, storeName(s))));
  pick.addEventListener('change', () => {
    if (pick.value === '*') return;
    state.stores = pick.value ? [pick.value] : [];
    state.offset = 0;
    remember();
    load();
  });
  return el('label', { class: 'list-store-pick' }, el('span', { class: 'muted' }, t('store')), pick);
}
const whoseRegions = () => t('list_all_of', { name: state.regions.map((r) => placeName(ctx.regionByCode[r]?.name, r)).join(t('list_sep')) });

function exportLink(format, label, total) {
  const p = params(false);
  p.set('format', format);
  p.set('lang', lang());
  return el('a', { class: 'btn small', id: `list-export-${format}`, dataset: { export: format }, href: `/api/v1/list/export?${p}`,
    download: `${id}-${period.to}.${format}`, title: t('list_export_hint', { n: fmtNum(total) }) }, label);
}

function sortBy(key) {
  if (state.sort === key) state.order = state.order === 'asc' ? 'desc' : 'asc';
  else { state.sort = key; state.order = 'asc'; }
  state.offset = 0;
  remember();
  load();
}

function pager(total) {
  const pages = Math.max(1, Math.ceil(total / state.limit));
  const at = Math.min(pages, Math.floor(state.offset / state.limit) + 1);
  const go = (n) => () => { state.offset = (n - 1) * state.limit; remember(); load(); };
  const button = (idName, label, n, disabled) => el('button', { class: 'btn small', type: 'button', id: idName, disabled, onclick: go(n) }, label);
  const size = el('select', { id: 'list-size', 'aria-label': t('list_page_size') },
    ...PAGE_SIZES.map((n) => el('option', { value: n, selected: n === state.limit }, String(n))));
  size.addEventListener('change', () => { state.limit = Number(size.value); state.offset = 0; remember(); load(); });
  const first = total ? state.offset + 1 : 0, last = Math.min(total, state.offset + state.limit);
  return el('div', { class: 'pager', id: 'list-pager' },
    button('list-first', t('list_first'), 1, at <= 1), button('list-prev', t('list_prev'), at - 1, at <= 1),
    el('span', { id: 'list-page-info', dataset: { page: at, pages } }, t('list_page', { p: at, n: pages })),
    button('list-next', t('list_next'), at + 1, at >= pages), button('list-last', t('list_last'), pages, at >= pages),
    el('span', { class: 'muted', id: 'list-range' }, t('list_rows', { a: fmtNum(first), b: fmtNum(last) })),
    el('label', { class: 'list-size' }, el('span', { class: 'muted' }, t('list_page_size')), size));
}

function table(answer) {
  const cols = def.columns;
  const head = el('tr', {}, ...cols.map((c) => {
    const sorted = state.sort === c.key;
    return el('th', { class: `${c.unit ? 'num ' : ''}${sorted ? `sorted ${state.order}` : ''}`, dataset: { key: c.key }, tabindex: 0,
      scope: 'col', 'aria-sort': sorted ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none',
      onclick: () => sortBy(c.key), onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(c.key); } } },
    localized(c.name, c.key));
  }));
  const rows = answer.rows.length ? answer.rows.map((r) => el('tr', {}, ...cols.map((c) => {
    const v = r[c.key];
    return el('td', { class: typeof v === 'number' ? 'num' : '', dataset: { key: c.key } }, cell(c, v));
  }))) : [el('tr', { class: 'empty' }, el('td', { colspan: cols.length, class: 'muted' }, t('list_empty')))];
  return el('div', { class: 'table-wrap list-table', id: 'list-table' }, el('table', { class: 'data' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

// The view: ask for the page and draw it; the address already says what it is.
async function load() {
  main.dataset.listState = 'loading';
  let answer;
  try {
    answer = await api('GET', `/api/v1/list?${params(true)}`);
    // a page past the end (the list shrank, or a stale address): the last page
    if (!answer.rows.length && answer.total > 0 && state.offset > 0) {
      state.offset = Math.floor((answer.total - 1) / state.limit) * state.limit;
      remember();
      answer = await api('GET', `/api/v1/list?${params(true)}`);
    }
  } catch (e) { showError(main, e); main.dataset.listState = 'error'; return; }
  const name = localized(def.name, def.id);
  const h1 = heading(name, period, whose());
  if (def.as_of) {
    // as of one day: the heading and the print header say so
    h1.querySelector('small').textContent = [whose(), t('list_as_of', { d: period.to })].join(' · ');
    const ph = $('#print-header');
    if (ph?.children[1]) ph.children[1].textContent = t('list_as_of', { d: period.to });
  }
  const sums = def.columns.filter((c) => c.key in (answer.sums || {}));
  const masked = answer.rows.some((r) => typeof r.phone === 'string' && r.phone.includes('*'));
  const summary = el('div', { class: 'list-summary', id: 'list-summary' },
    el('span', { class: 'list-total', id: 'list-total', dataset: { total: answer.total } }, t('list_total', { n: fmtNum(answer.total) })),
    ...sums.map((c) => el('span', { class: 'list-sum', dataset: { sum: c.key, value: answer.sums[c.key] }, title: fmtNum(answer.sums[c.key], 2) },
      t('list_sum', { name: localized(c.name, c.key), v: fmtMoney(answer.sums[c.key]) }))),
    masked ? el('span', { class: 'muted', id: 'list-masked' }, t('list_phones_masked')) : null);
  const bar = el('div', { class: 'list-bar' }, summary, storePicker(),
    el('div', { class: 'table-tools' }, exportLink('xlsx', t('export_xlsx'), answer.total), exportLink('csv', t('export_csv'), answer.total)));
  const body = el('section', { class: 'panel list-panel', id: 'list' }, bar,
    el('p', { class: 'muted list-hint' }, t('list_sort_hint')), table(answer), pager(answer.total));
  main.replaceChildren(h1, body);
  main.dataset.listState = 'ready';
}

(async () => {
  try {
    ctx = await boot({ page: 'list.html', title: t('list_title'), regionPicker: false,
      onPeriod: (p) => { period = p; state.offset = 0; remember(); load(); } });
    const lists = await listsReady();
    period = ctx.period;
    def = (lists || []).find((l) => l.id === id);
    if (!def) {
      main.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'unknown-list' }, t('list_unknown', { id })));
      return;
    }
    // codes outside the scope are left to the server, which says so (403)
    await load();
  } catch (e) { showError(main, e); }
})();
