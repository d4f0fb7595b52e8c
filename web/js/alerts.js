// alerts: the alerts on the stores in the caller's scope (GET /api/v1/alerts),
// newest first, open or closed (?state=open|closed|all, open by default),
// filtered by store, KPI and rule (?store=, ?kpi=, ?rule=: the API's own
// filters), a page of PAGE at a time (`before` the last id shown; the ids
// of the pages before are kept to go back). Each alert: its store (a link
// to the store page for the alert's period), its KPI by the catalogue's
// name ("data not updated" for a data_missing rule, with the data it
// watches where the rules are known), the value and threshold in the
// KPI's unit, the window in words with its days, when it opened and
// closed, and how its notifications went; where a list explains the KPI
// (GET /api/v1/lists), a link to that list for the store and the period.
// Admins and regional managers also get their rules (GET /api/v1/alert-rules)
// for the rule filter and a link to the editor. No KPI batch.
import { boot, api, el, $, table, panel, showError, plainHeading, storeName, kpiName, fmtValue, link } from './core.js';
import { t, placeName } from './i18n.js';
import { listsReady, listFor, listHref } from './lists-link.js';

export const PAGE = 50;
const main = $('#main');
let ctx, lists = [], rules = [];
const q = new URLSearchParams(location.search);
const view = {
  state: ['open', 'closed', 'all'].includes(q.get('state')) ? q.get('state') : 'open',
  store: q.get('store') || '', kpi: q.get('kpi') || '', rule: q.get('rule') || '',
  pages: [],          // the `before` of each page shown so far (0: the first)
};
const seenRules = new Set(view.rule ? [view.rule] : []);

function setQuery() {
  const u = new URLSearchParams(location.search);
  for (const k of ['state', 'store', 'kpi', 'rule']) if (view[k]) u.set(k, view[k]); else u.delete(k);
  history.replaceState(null, '', `${location.pathname}?${u}${location.hash}`);
}

// --- the cells ---
const ruleOf = (name) => rules.find((r) => r.name === name) || null;
function kpiCell(a) {
  if (!a.kpi) {
    const entity = ruleOf(a.rule)?.data_missing?.entity;
    return el('span', { class: 'missing' }, entity ? t('alerts_missing_of', { e: t(`fresh_${entity}`) }) : t('alerts_data_missing'));
  }
  const def = ctx.catalogue[a.kpi];
  const out = [def ? kpiName(def) : a.kpi];
  const list = listFor(lists, a.kpi);
  if (list && a.from && a.to) {
    out.push(' ', el('a', { class: 'list-link', href: listHref(list, { from: a.from, to: a.to, kind: 'custom' }, { stores: [a.store] }),
      dataset: { list: list.id } }, t('alerts_list')));
  }
  return out;
}
const valueText = (a) => {
  if (!a.kpi) return a.value === null ? t('alerts_never') : t('alerts_days', { n: a.value });
  return fmtValue(a.value, ctx.catalogue[a.kpi]?.unit);
};
const thresholdText = (a) => {
  if (!a.kpi) return a.threshold === null ? '—' : t('alerts_over_days', { n: a.threshold });
  return fmtValue(a.threshold, ctx.catalogue[a.kpi]?.unit);
};
const windowText = (a) => (a.window ? t('window_range', { w: t(`window_${a.window}`), from: a.from, to: a.to }) : '—');
const when = (s) => (s ? s.slice(0, 16) : '');
function targetName(target) {
  if (!/^https?:/.test(target || '')) return target || '';
  try { return new URL(target).host; } catch { return target; }
}
const deliveryText = (d) => `${targetName(d.target)} · ${t(`delivery_${d.event}`)} · ${t(`delivery_${d.status}`)}`;
function deliveries(a) {
  if (!a.deliveries?.length) return el('span', { class: 'muted' }, t('no_notify'));
  return a.deliveries.map((d) => el('span', { class: `delivery ${d.status}`,
    title: [d.target, t('delivery_attempts', { n: d.attempts }), d.last_error].filter(Boolean).join('\n') }, deliveryText(d)));
}
// The store page for the alert's period (a data_missing alert: the page's default period).
function storeHref(a) {
  const period = a.from && a.to ? { from: a.from, to: a.to, kind: 'custom' } : null;
  return period ? link('store.html', { code: a.store }, period) : `store.html?code=${encodeURIComponent(a.store)}`;
}
function storeLabel(a) { return storeName(ctx.storeByCode[a.store] || { name: a.store_name, code: a.store }); }

function columns() {
  return [
    { key: 'store_label', title: t('store'), type: 'text', exportValue: (a) => storeLabel(a),
      render: (a) => el('a', { class: 'store-link', href: storeHref(a), dataset: { store: a.store } }, storeLabel(a)) },
    { key: 'kpi_label', title: t('alerts_kpi'), type: 'text', exportValue: (a) => a.kpi_label, render: kpiCell },
    { key: 'value', title: t('alerts_value'), type: 'number', exportValue: valueText, render: valueText },
    { key: 'threshold', title: t('alerts_threshold'), type: 'number', exportValue: thresholdText, render: thresholdText },
    { key: 'window_label', title: t('alerts_window'), type: 'text', exportValue: windowText, render: windowText },
    { key: 'opened_at', title: t('alerts_opened'), type: 'text', exportValue: (a) => when(a.opened_at), render: (a) => when(a.opened_at) },
    { key: 'closed_at', title: t('alerts_closed_at'), type: 'text', exportValue: (a) => when(a.closed_at) || t('alerts_still_open'),
      render: (a) => (a.closed_at ? when(a.closed_at) : el('b', { class: 'short' }, t('alerts_still_open'))) },
    { key: 'rule', title: t('alerts_rule'), type: 'text' },
    { key: 'notify', title: t('alerts_notify'), type: 'text', exportValue: (a) => (a.deliveries || []).map(deliveryText).join('; '), render: deliveries },
  ];
}

// --- the filters (in the toolbar) ---
function select(id, label, options, value, onChange) {
  const s = el('select', { id, 'aria-label': label },
    ...options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)));
  s.addEventListener('change', () => onChange(s.value));
  return el('label', {}, el('span', { class: 'muted' }, label), s);
}
function filters() {
  const change = (k) => (v) => { view[k] = v; view.pages = []; setQuery(); render(); };
  const kpis = Object.values(ctx.catalogue).filter((d) => (d.by || []).includes('store'))
    .sort((a, b) => kpiName(a).localeCompare(kpiName(b), 'zh-CN'));
  const ruleNames = [...new Set([...rules.map((r) => r.name), ...seenRules])].sort();
  return el('div', { class: 'filters', id: 'alert-filters' },
    select('alert-state', t('alerts_state'), [['open', t('alerts_open')], ['closed', t('alerts_closed')], ['all', t('alerts_all')]],
      view.state, change('state')),
    select('alert-store', t('store'), [['', t('all_stores')], ...ctx.stores.map((s) => [s.code, storeName(s)])], view.store, change('store')),
    select('alert-kpi', t('alerts_kpi'), [['', t('alerts_any_kpi')], ...kpis.map((d) => [d.id, kpiName(d)])], view.kpi, change('kpi')),
    select('alert-rule', t('alerts_rule'), [['', t('alerts_any_rule')], ...ruleNames.map((n) => [n, n])], view.rule, change('rule')));
}

async function render() {
  const box = $('#alerts-box');
  box.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const before = view.pages[view.pages.length - 1] || 0;
  const aq = new URLSearchParams({ state: view.state, limit: String(PAGE) });
  if (before) aq.set('before', String(before));
  for (const k of ['store', 'kpi', 'rule']) if (view[k]) aq.set(k, view[k]);
  let list;
  try { list = await api('GET', `/api/v1/alerts?${aq}`); } catch (e) { showError(box, e); return; }
  let grew = false;
  for (const a of list) {
    if (!seenRules.has(a.rule)) { seenRules.add(a.rule); grew = true; }
    a.store_label = storeLabel(a);
    a.kpi_label = a.kpi ? (ctx.catalogue[a.kpi] ? kpiName(ctx.catalogue[a.kpi]) : a.kpi) : t('alerts_data_missing');
    a.window_label = windowText(a);
  }
  if (grew) $('#alert-filters').replaceWith(filters());
  const pager = el('div', { class: 'pager' },
    el('button', { class: 'btn small', type: 'button', id: 'alerts-first', disabled: !view.pages.length,
      onclick: () => { view.pages = []; render(); } }, t('alerts_first')),
    el('button', { class: 'btn small', type: 'button', id: 'alerts-prev', disabled: !view.pages.length,
      onclick: () => { view.pages.pop(); render(); } }, t('list_prev')),
    el('button', { class: 'btn small', type: 'button', id: 'alerts-next', disabled: list.length < PAGE,
      onclick: () => { view.pages.push(list[list.length - 1].id); render(); } }, t('list_next')),
    el('span', { class: 'muted', id: 'alerts-count' }, t('alerts_count', { n: list.length })));
  // on paper the toolbar is gone: the filters in force are said above the table
  const storeOf = ctx.storeByCode[view.store];
  const said = [t(`alerts_${view.state}`), storeOf ? storeName(storeOf) : null,
    view.kpi ? kpiName(ctx.catalogue[view.kpi]) || view.kpi : null, view.rule || null].filter(Boolean).join(' · ');
  box.replaceChildren(el('p', { class: 'print-only', id: 'alerts-filters-said' }, said),
    list.length ? table(columns(), list, { exportName: `alerts-${view.state}`, exportTitle: t('nav_alerts'),
      rowClass: (a) => (a.closed_at ? 'alert-closed' : 'alert-open') })
      : el('p', { class: 'muted', id: 'alerts-empty' }, t('alerts_none')),
    pager);
  box.dataset.ready = 'true';
}

(async () => {
  try {
    ctx = await boot({ page: 'alerts.html', title: t('nav_alerts'), periodPicker: false, regionPicker: false });
    const manages = ['admin', 'regional_manager'].includes(ctx.me.role);
    [lists, rules] = await Promise.all([listsReady(), manages ? api('GET', '/api/v1/alert-rules').catch(() => []) : []]);
    $('#toolbar').prepend(filters());
    const scope = ctx.me.role === 'store_manager' && ctx.stores.length === 1 ? storeName(ctx.stores[0])
      : ctx.me.role === 'regional_manager' ? ctx.regions.map((r) => placeName(r.name, r.code)).join(t('list_sep')) : t('group');
    const box = el('div', { id: 'alerts-box' });
    const p = panel(t('nav_alerts'), el('p', { class: 'muted' }, t('alerts_hint')), box);
    p.id = 'alerts';
    main.replaceChildren(plainHeading(t('nav_alerts'), scope),
      el('div', { class: 'page-links' }, manages ? el('a', { href: 'alert-rules.html', id: 'rules-link' }, t('alerts_rules_link')) : null,
        el('a', { href: 'subscriptions.html' }, t('alerts_subs_link'))),
      p);
    await render();
  } catch (e) { showError(main, e); }
})();
