// lists-link: the counts of the dashboards that open their list. The
// catalogue of lists (GET /api/v1/lists) says which KPI each list explains
// (`explains.kpi`); a value of such a KPI on the overview, a domain page or
// the store page becomes a link to list.html for the same stores and the
// same period (the card's period: an as-of list is as of its `to`). The
// catalogue is asked for once per page, after the page has signed in (a
// signed-out page sends one request only, the one that leads to the
// sign-in). The pages call three hooks, so that they change little:
// listCell (a KPI column of a table whose cells open the list of their
// row's store), linkValues (the values of a drawn panel become links) and
// listCounts (the overview's panel of the counts to follow up, which asks
// for its own values).
import { el, api, panel, kpiName, fmtValue, targetStatus } from './core.js';
import { t, localized } from './i18n.js';

// The KPIs that a list explains and that the dashboards show as counts or amounts to act on.
export const LIST_KPIS = ['retention.at_risk', 'retention.warning', 'retention.lost', 'retention.first_service_pending',
  'retention.maintenance_due', 'insurance.renewals_due', 'receivables.over_limit_accounts', 'receivables.overdue',
  'parts.slow_moving_share', 'service.comebacks', 'service.complaints'];

// The catalogue of lists (asked for once; a failure leaves the values without links).
let catalogue = null;
export function listsReady() {
  catalogue ??= api('GET', '/api/v1/lists').catch(() => []);
  return catalogue;
}

// The list that explains a KPI (the one of the KPI's own plugin first), or null.
export function listFor(lists, kpiId) {
  const all = (lists || []).filter((l) => l.explains?.kpi === kpiId);
  return all.find((l) => l.plugin === kpiId.split('.')[0]) || all[0] || null;
}

// The address of a list for a period and stores or regions (arrays of codes; none: the whole scope).
export function listHref(list, period, { stores = [], regions = [] } = {}) {
  // an as-of list reads `to` alone; `from` keeps the card's period for the page's picker and links
  const q = new URLSearchParams({ id: list.id, from: period.from, to: period.to });
  q.set('kind', period.kind || 'custom');
  if (stores.length) q.set('stores', stores.join(','));
  else if (regions.length) q.set('regions', regions.join(','));
  return `list.html?${q}`;
}

// `content` wrapped in a link to the list explaining kpiId, or left as it is when no list does.
// A click on it does not reach a clickable row around it.
export function listLink(lists, kpiId, content, period, scope = {}) {
  const list = listFor(lists, kpiId);
  if (!list) return content;
  return el('a', { class: 'list-link', href: listHref(list, period, scope), dataset: { list: list.id, kpi: kpiId },
    title: t('open_list', { name: localized(list.name, list.id) }), onclick: (e) => e.stopPropagation() }, content);
}

// The scope of a table row: its store's, or (the total row) the page's; null for a row of neither (a benchmark).
function rowScope(ctx, row, regions) {
  if (row.code === 'group') return regions?.length ? { regions } : {};
  return ctx.storeByCode[row.code] ? { stores: [row.code] } : null;
}

// A render function for the KPI column `id` of a table (core.js table()), or undefined when no list
// explains it: the cell keeps its light and its value, the value a link to the row's list.
export function listCell(ctx, lists, id, period, regions = []) {
  if (!listFor(lists, id)) return undefined;
  const def = ctx.catalogue[id];
  return (r) => {
    const shown = fmtValue(r[id], def?.unit);
    const scope = rowScope(ctx, r, regions);
    return [el('span', { class: `light ${targetStatus(def, r[id])}` }), scope ? listLink(lists, id, shown, period, scope) : shown];
  };
}

// The values of a drawn part of a page (elements .v[data-kpi], as the store page's panels) that a
// list explains become links to it, for `scope` and the period: the value's text is wrapped.
export function linkValues(root, lists, period, scope) {
  for (const v of root.querySelectorAll('.v[data-kpi]')) {
    const text = [...v.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!text || !listFor(lists, v.dataset.kpi)) continue;
    const a = listLink(lists, v.dataset.kpi, text.textContent, period, scope);
    text.replaceWith(a);
  }
}

// The overview's counts to follow up (LIST_KPIS that the catalogue has), each opening its list for
// the scope (regions: [] for the whole scope) and the period. Returned at once; its values come
// from one GET /api/v1/kpi of its own.
export function listCounts(ctx, period, regions = []) {
  const ids = LIST_KPIS.filter((id) => ctx.catalogue[id]);
  const box = el('div', { class: 'cards list-counts' });
  const p = panel(t('lists_panel'), el('p', { class: 'muted' }, t('lists_panel_hint')), box);
  p.id = 'list-counts';
  if (!ids.length) return null;
  const q = new URLSearchParams({ ids: ids.join(','), from: period.from, to: period.to, by: 'group' });
  if (regions.length) q.set('regions', regions.join(','));
  Promise.all([api('GET', `/api/v1/kpi?${q}`), listsReady()]).then(([answer, lists]) => {
    const values = answer.rows?.[0]?.values || {};
    const scope = regions.length ? { regions } : {};
    box.replaceChildren(...ids.map((id) => el('div', { class: 'card', dataset: { kpi: id } },
      el('div', { class: 'name' }, kpiName(ctx.catalogue[id])),
      el('div', { class: 'value' }, listLink(lists, id, fmtValue(values[id], ctx.catalogue[id].unit), period, scope)))));
    p.dataset.ready = 'true';
  }).catch((e) => { box.replaceChildren(el('div', { class: 'error', role: 'alert' }, `${t('error')}: ${e.message}`)); });
  return p;
}
