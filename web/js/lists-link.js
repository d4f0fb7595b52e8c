// lists-link: the counts of the dashboards that open their list. The
// catalogue of lists (GET /api/v1/lists) says which KPI each list explains
// (`explains.kpi`); a value of such a KPI on the overview, a domain page or
// the store page becomes a link to list.html for the same stores and the
// same period (the card's period: an as-of list is as of its `to`). The
// catalogue is asked for once per page, as the module loads, beside the
// page's KPI batch.
import { el } from './core.js';
import { t, localized } from './i18n.js';

// The KPIs that a list explains and that the dashboards show as counts or amounts to act on.
export const LIST_KPIS = ['retention.at_risk', 'retention.warning', 'retention.lost', 'retention.first_service_pending',
  'retention.maintenance_due', 'insurance.renewals_due', 'receivables.over_limit_accounts', 'receivables.overdue',
  'parts.slow_moving_share', 'service.comebacks', 'service.complaints'];

export const listsReady = fetch('/api/v1/lists', { credentials: 'same-origin' })
  .then((r) => (r.ok ? r.json() : [])).catch(() => []);

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
