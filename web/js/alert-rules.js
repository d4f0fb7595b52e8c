// alert-rules: the rules editor, for admins and regional managers. The
// rules the caller may manage (GET /api/v1/alert-rules: admins all, each
// with its owner), each to edit, test (POST /api/v1/alert-rules/{name}/test:
// a sample sent to each target now, the outcome of each shown) or delete;
// and the form of a rule (PUT /api/v1/alert-rules/{name}): a KPI rule (a KPI
// of the catalogue answered by store, below / above a threshold or outside
// the catalogue's target, over a window) or a data_missing rule (an entity
// and a number of days); the stores and regions it covers (none: the whole
// scope; only those in the caller's scope are offered), its notify targets
// (group robots' webhooks with their format, email addresses) and whether it
// is on. A ratio's threshold is typed in percent. The server's 400 (and
// the 403 of a store outside the scope) is shown beside the field it
// names. No KPI batch.
import { boot, api, el, $, panel, showError, plainHeading, storeName, kpiName, fmtValue, ApiError } from './core.js';
import { t, placeName } from './i18n.js';
import { field, group, clearErrors, showErrors, notice } from './forms.js';

const main = $('#main');
const ENTITIES = ['repair_orders', 'vehicle_sales', 'insurance_policies', 'invoices', 'payments', 'parts_stock',
  'follow_up_calls', 'csi_surveys', 'appointments', 'store_financials'];
const WHEN = ['below', 'above', 'outside_target'];
const WINDOWS = ['month_to_date', 'last_month', 'last_30_days'];
const FORMATS = ['wecom', 'dingtalk', 'json'];
let ctx, rules = [];

const option = (value, text, selected) => el('option', { value, selected: value === selected }, text);
const isRatio = (kpi) => ctx.catalogue[kpi]?.unit === 'ratio';

// --- the list of rules ---
function condition(r) {
  if (r.data_missing) return t('alerts_over_days', { n: r.data_missing.days });
  const th = r.when === 'outside_target' ? '' : ` ${fmtValue(r.threshold, ctx.catalogue[r.kpi]?.unit)}`;
  return `${t(`when_${r.when}`)}${th}`;
}
function coverage(r) {
  const s = (r.stores || []).map((c) => storeName(ctx.storeByCode[c] || { code: c }));
  const g = (r.regions || []).map((c) => placeName(ctx.regionByCode[c]?.name, c));
  return [...g, ...s].join(t('list_sep')) || t('all_stores');
}
function rulesTable() {
  if (!rules.length) return el('p', { class: 'muted', id: 'rules-empty' }, t('rules_none'));
  const admin = ctx.me.role === 'admin';
  const head = [t('rule_name'), t('rule_kpi'), t('rule_condition'), t('rule_window'), t('rule_stores'), t('rule_notify'),
    t('rule_enabled'), ...(admin ? [t('rule_owner')] : []), ''];
  const row = (r) => el('tr', { dataset: { rule: r.name } },
    el('td', {}, r.name),
    el('td', {}, r.kpi ? kpiName(ctx.catalogue[r.kpi]) || r.kpi : t('alerts_missing_of', { e: t(`fresh_${r.data_missing?.entity}`) })),
    el('td', {}, condition(r)),
    el('td', {}, r.window ? t(`window_${r.window}`) : '—'),
    el('td', {}, coverage(r)),
    el('td', {}, t('rule_targets', { n: (r.notify || []).length })),
    el('td', {}, r.enabled === false ? t('enabled_no') : t('enabled_yes')),
    admin ? el('td', {}, r.owner || '') : null,
    el('td', {}, el('span', { class: 'actions' },
      el('button', { class: 'btn small', type: 'button', dataset: { action: 'edit' }, onclick: () => edit(r) }, t('edit')),
      el('button', { class: 'btn small', type: 'button', dataset: { action: 'test' }, onclick: () => testSend(r.name) }, t('rule_test')),
      el('button', { class: 'btn small danger', type: 'button', dataset: { action: 'delete' }, onclick: () => remove(r.name) }, t('delete')))));
  return el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'rules-table' },
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rules.map(row))));
}
async function loadRules() {
  rules = await api('GET', '/api/v1/alert-rules');
  $('#rules-list').replaceChildren(rulesTable());
}

// --- test delivery ---
async function testSend(name) {
  const box = $('#test-result');
  box.hidden = false;
  box.replaceChildren(el('h2', {}, `${t('rule_test_title')} · ${name}`), el('p', { class: 'muted loading-test' }, t('rule_testing')));
  box.scrollIntoView?.({ block: 'nearest' });
  try {
    const r = await api('POST', `/api/v1/alert-rules/${encodeURIComponent(name)}/test`, {});
    box.replaceChildren(el('h2', {}, `${t('rule_test_title')} · ${name}`), el('ul', { class: 'test-results' }, ...r.results.map((x) =>
      el('li', { class: x.status, dataset: { target: x.target, status: x.status } }, `${x.target}: `,
        x.status === 'sent' ? t('test_sent', { n: x.attempts }) : t('test_failed', { n: x.attempts, e: x.last_error || '' })))));
  } catch (e) { showError(box, e); }
  box.dataset.ready = 'true';
}

async function remove(name) {
  if (!confirm(t('confirm_delete_rule', { name }))) return;
  try {
    await api('DELETE', `/api/v1/alert-rules/${encodeURIComponent(name)}`);
    notice($('#rules'), t('deleted', { name }));
    await loadRules();
  } catch (e) { showError($('#rules-list'), e); }
}

// --- the form ---
function checks(name, items, picked) {
  return el('div', { class: 'checks', id: `rule-${name}` }, ...items.map(([code, label]) =>
    el('label', {}, el('input', { type: 'checkbox', value: code, checked: picked.includes(code) }), label)));
}
const checked = (box) => [...box.querySelectorAll('input:checked')].map((i) => i.value);
function targetRow(tg, i) {
  const remove = el('button', { class: 'btn small', type: 'button', onclick: (e) => e.target.closest('.target-row').remove() }, t('remove'));
  if (tg.email !== undefined) {
    return el('div', { class: 'target-row', dataset: { kind: 'email' } },
      el('input', { type: 'email', class: 'target-email', value: tg.email, placeholder: t('notify_email'), 'aria-label': t('notify_email') }), remove,
      el('small', { class: 'field-error', dataset: { errorFor: `notify[${i}]` } }));
  }
  return el('div', { class: 'target-row', dataset: { kind: 'webhook' } },
    el('input', { type: 'text', class: 'target-url', value: tg.webhook, inputmode: 'url', placeholder: t('notify_webhook'), 'aria-label': t('notify_webhook') }),
    el('select', { class: 'target-format', 'aria-label': t('notify_format') }, ...FORMATS.map((f) => option(f, t(`format_${f}`), tg.format || 'wecom'))),
    remove, el('small', { class: 'field-error', dataset: { errorFor: `notify[${i}]` } }));
}
// The targets' error lines follow their rows' order (the API names them notify[N]).
function renumber(box) {
  [...box.querySelectorAll('.target-row')].forEach((row, i) => { row.querySelector('.field-error').dataset.errorFor = `notify[${i}]`; });
}

function form(rule) {
  const editing = !!rule;
  const r = rule || { kpi: '', when: 'below', window: 'month_to_date', notify: [{ webhook: '', format: 'wecom' }], enabled: true };
  const kpis = Object.values(ctx.catalogue).filter((d) => (d.by || []).includes('store'))
    .sort((a, b) => kpiName(a).localeCompare(kpiName(b), 'zh-CN'));
  const name = el('input', { type: 'text', id: 'rule-name', value: rule?.name || '', maxlength: 64, required: true, disabled: editing,
    pattern: '[a-z0-9_\\-]{1,64}', placeholder: 'renewal-low' });
  const kind = el('select', { id: 'rule-kind' }, option('kpi', t('rule_kind_kpi'), r.data_missing ? 'missing' : 'kpi'),
    option('missing', t('rule_kind_missing'), r.data_missing ? 'missing' : 'kpi'));
  const kpi = el('select', { id: 'rule-kpi' }, ...kpis.map((d) => option(d.id, `${kpiName(d)}`, r.kpi || kpis[0]?.id)));
  const when = el('select', { id: 'rule-when' }, ...WHEN.map((w) => option(w, t(`when_${w}`), r.when || 'below')));
  const shownThreshold = (v, k) => (v === undefined || v === null ? '' : String(isRatio(k) ? Math.round(v * 1e6) / 1e4 : v));
  const threshold = el('input', { type: 'number', id: 'rule-threshold', step: 'any', value: shownThreshold(r.threshold, r.kpi) });
  const unitHint = el('small', { class: 'muted', id: 'rule-unit' });
  const win = el('select', { id: 'rule-window' }, ...WINDOWS.map((w) => option(w, t(`window_${w}`), r.window || 'month_to_date')));
  const entity = el('select', { id: 'rule-entity' }, ...ENTITIES.map((e) => option(e, t(`fresh_${e}`), r.data_missing?.entity || 'repair_orders')));
  const days = el('input', { type: 'number', id: 'rule-days', min: 0, max: 3650, step: 1, value: String(r.data_missing?.days ?? 2) });
  const stores = checks('stores', ctx.stores.map((s) => [s.code, storeName(s)]), r.stores || []);
  const regions = checks('regions', ctx.regions.map((g) => [g.code, placeName(g.name, g.code)]), r.regions || []);
  const targets = el('div', { class: 'targets', id: 'rule-targets' }, ...(r.notify || []).map(targetRow));
  const addHook = el('button', { class: 'btn small', type: 'button', id: 'add-webhook',
    onclick: () => { targets.append(targetRow({ webhook: '', format: 'wecom' }, 0)); renumber(targets); } }, t('notify_add_webhook'));
  const addMail = el('button', { class: 'btn small', type: 'button', id: 'add-email',
    onclick: () => { targets.append(targetRow({ email: '' }, 0)); renumber(targets); } }, t('notify_add_email'));
  const enabled = el('input', { type: 'checkbox', id: 'rule-enabled', checked: r.enabled !== false });
  const save = el('button', { class: 'btn', type: 'submit', id: 'rule-save' }, t('save'));
  const test = el('button', { class: 'btn secondary', type: 'button', id: 'rule-test', disabled: !editing,
    onclick: () => testSend(name.value.trim()) }, t('rule_test'));
  const cancel = el('button', { class: 'btn secondary', type: 'button', id: 'rule-cancel', onclick: () => edit(null) }, t('cancel'));
  const kpiFields = [field(t('rule_kpi'), kpi, 'kpi'), field(t('rule_when'), when, 'when'),
    field(t('rule_threshold'), [threshold, unitHint], 'threshold'), field(t('rule_window'), win, 'window')];
  const missingFields = [field(t('rule_entity'), entity, 'data_missing.entity'), field(t('rule_days'), days, 'data_missing.days')];
  const f = el('form', { class: 'editor-form', id: 'rule-form', novalidate: true },
    field(t('rule_name'), name, 'name', { hint: t('rule_name_hint') }), field(t('rule_kind'), kind, 'data_missing'),
    ...kpiFields, ...missingFields,
    group(t('rule_regions'), regions, 'regions'),
    group(t('rule_stores'), stores, 'stores', { hint: t('rule_scope_hint') }),
    group(t('rule_notify'), el('div', {}, targets, el('div', { class: 'target-row' }, addHook, addMail)), 'notify'),
    field(t('rule_enabled'), enabled, 'enabled'),
    el('div', { class: 'form-bar' }, save, test, cancel, el('small', { class: 'field-error', dataset: { errorFor: 'form' }, role: 'alert' })));
  const sync = () => {
    const missing = kind.value === 'missing';
    for (const x of kpiFields) x.hidden = missing;
    for (const x of missingFields) x.hidden = !missing;
    // outside_target uses the catalogue's target: no threshold
    kpiFields[2].hidden = missing || when.value === 'outside_target';
    const def = ctx.catalogue[kpi.value];
    unitHint.textContent = def ? t('rule_threshold_unit', { u: isRatio(kpi.value) ? '%' : t(`unit_name_${unitKey(def.unit)}`) }) : '';
  };
  kind.addEventListener('change', sync);
  when.addEventListener('change', sync);
  kpi.addEventListener('change', sync);
  sync();
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(f);
    const n = name.value.trim();
    if (!n) { showErrors(f, { details: [{ parameter: 'name', message: t('field_required') }] }); return; }
    const body = { stores: checked(stores), regions: checked(regions), enabled: enabled.checked, notify: [] };
    for (const row of targets.querySelectorAll('.target-row[data-kind]')) {
      if (row.dataset.kind === 'email') body.notify.push({ email: row.querySelector('.target-email').value.trim() });
      else body.notify.push({ webhook: row.querySelector('.target-url').value.trim(), format: row.querySelector('.target-format').value });
    }
    if (kind.value === 'missing') body.data_missing = { entity: entity.value, days: days.value === '' ? null : Number(days.value) };
    else {
      Object.assign(body, { kpi: kpi.value, when: when.value, window: win.value });
      if (when.value !== 'outside_target') {
        const v = threshold.value.trim() === '' ? null : Number(threshold.value);
        body.threshold = v === null ? null : isRatio(kpi.value) ? v / 100 : v;
      }
    }
    try {
      await api('PUT', `/api/v1/alert-rules/${encodeURIComponent(n)}`, body);
      await loadRules();
      const saved = rules.find((x) => x.name === n);
      edit(saved || null);
      notice($('#rule-editor'), t('saved'));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 400 || err.status === 403)) showErrors(f, err);
      else showErrors(f, { message: err.message });
    }
  });
  return f;
}
// The catalogue's unit as the scorecard editor names it (i18n unit_name_*).
const unitKey = (u) => ({ count: 'count', CNY: 'cny', ratio: 'ratio', 'CNY/h': 'cny_h', h: 'h', 'times/yr': 'times_yr', days: 'days', score: 'score' }[u] || 'none');

function edit(rule) {
  const box = $('#rule-editor');
  box.querySelector('h2').textContent = rule ? t('rule_edit_title', { name: rule.name }) : t('rule_new_title');
  box.querySelector('form')?.replaceWith(form(rule));
  if (rule) box.scrollIntoView?.({ block: 'start' });
}

(async () => {
  try {
    ctx = await boot({ page: 'alert-rules.html', title: t('nav_alert_rules'), periodPicker: false, regionPicker: false });
    if (!['admin', 'regional_manager'].includes(ctx.me.role)) {
      main.replaceChildren(plainHeading(t('nav_alert_rules')), el('div', { class: 'error', role: 'alert' }, t('forbidden')));
      return;
    }
    const list = panel(ctx.me.role === 'admin' ? t('rules_all') : t('rules_list'), el('div', { id: 'rules-list' }),
      el('button', { class: 'btn', type: 'button', id: 'rule-new', onclick: () => edit(null) }, t('rules_new')));
    list.id = 'rules';
    const editor = panel(t('rule_new_title'), el('form'));
    editor.id = 'rule-editor';
    const result = el('section', { class: 'panel', id: 'test-result', hidden: true });
    main.replaceChildren(plainHeading(t('nav_alert_rules')),
      el('div', { class: 'page-links' }, el('a', { href: 'alerts.html' }, t('nav_alerts')), el('a', { href: 'subscriptions.html' }, t('nav_subscriptions'))),
      list, result, editor);
    edit(null);
    await loadRules();
  } catch (e) { showError(main, e); }
})();
