// subscriptions: every user's report subscriptions (GET /api/v1/subscriptions;
// admins see everyone's, each with its owner): the daily report (at
// its time every day) or the monthly report (on the 1st), by email to the
// recipients, built with the owner's scope. Each of the caller's own may be
// edited (PUT /api/v1/subscriptions/{name}: names are per owner) or deleted;
// an admin may delete another user's (DELETE ...?owner=USER). The server's
// 400 is shown beside the field it names. No KPI batch.
import { boot, api, el, $, panel, showError, plainHeading, ApiError } from './core.js';
import { t } from './i18n.js';
import { field, clearErrors, showErrors, notice } from './forms.js';

const main = $('#main');
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
let ctx, subs = [];

const mine = (s) => !s.owner || s.owner === ctx.me.username;
function subsTable() {
  if (!subs.length) return el('p', { class: 'muted', id: 'subs-empty' }, t('subs_none'));
  const admin = ctx.me.role === 'admin';
  const head = [t('sub_name'), t('sub_report'), t('sub_to'), t('sub_time'), ...(admin ? [t('sub_owner')] : []), ''];
  const row = (s) => el('tr', { dataset: { sub: s.name, owner: s.owner || ctx.me.username } },
    el('td', {}, s.name), el('td', {}, t(`report_${s.report}`)), el('td', {}, (s.to || []).join(', ')), el('td', {}, s.time),
    admin ? el('td', {}, s.owner || '') : null,
    el('td', {}, el('span', { class: 'actions' },
      mine(s) ? el('button', { class: 'btn small', type: 'button', dataset: { action: 'edit' }, onclick: () => edit(s) }, t('edit')) : null,
      el('button', { class: 'btn small danger', type: 'button', dataset: { action: 'delete' }, onclick: () => remove(s) }, t('delete')))));
  return el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'subs-table' },
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...subs.map(row))));
}
async function load() {
  subs = await api('GET', '/api/v1/subscriptions');
  $('#subs-list').replaceChildren(subsTable());
}
async function remove(s) {
  if (!confirm(t('confirm_delete_sub', { name: s.name }))) return;
  const owner = mine(s) ? '' : `?owner=${encodeURIComponent(s.owner)}`;
  try {
    await api('DELETE', `/api/v1/subscriptions/${encodeURIComponent(s.name)}${owner}`);
    notice($('#subs'), t('deleted', { name: s.name }));
    await load();
  } catch (e) { showError($('#subs-list'), e); }
}

function form(sub) {
  const s = sub || { report: 'daily', to: [], time: '08:00' };
  const name = el('input', { type: 'text', id: 'sub-name', value: sub?.name || '', maxlength: 64, disabled: !!sub, placeholder: 'daily' });
  const report = el('select', { id: 'sub-report' }, ...['daily', 'monthly'].map((r) =>
    el('option', { value: r, selected: r === s.report }, t(`report_${r}`))));
  const to = el('input', { type: 'text', id: 'sub-to', value: (s.to || []).join(', '), inputmode: 'email', placeholder: 'name@example.com' });
  const time = el('input', { type: 'text', id: 'sub-time', value: s.time || '08:00', inputmode: 'numeric', maxlength: 5, size: 5, placeholder: '08:00' });
  const f = el('form', { class: 'editor-form', id: 'sub-form', novalidate: true },
    field(t('sub_name'), name, 'name', { hint: t('rule_name_hint') }), field(t('sub_report'), report, 'report'),
    field(t('sub_to'), to, 'to', { wide: true, hint: t('sub_to_hint') }), field(t('sub_time'), time, 'time', { hint: t('sub_time_hint') }),
    el('div', { class: 'form-bar' }, el('button', { class: 'btn', type: 'submit', id: 'sub-save' }, t('save')),
      el('button', { class: 'btn secondary', type: 'button', id: 'sub-cancel', onclick: () => edit(null) }, t('cancel')),
      el('small', { class: 'field-error', dataset: { errorFor: 'form' }, role: 'alert' })));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(f);
    const n = name.value.trim();
    if (!n) { showErrors(f, { details: [{ parameter: 'name', message: t('field_required') }] }); return; }
    if (!TIME.test(time.value.trim())) { showErrors(f, { details: [{ parameter: 'time', message: t('time_invalid') }] }); return; }
    const body = { report: report.value, to: to.value.split(/[,\uff0c;\s]+/u).map((x) => x.trim()).filter(Boolean), time: time.value.trim() };
    try {
      await api('PUT', `/api/v1/subscriptions/${encodeURIComponent(n)}`, body);
      await load();
      edit(null);
      notice($('#subs'), t('saved'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) showErrors(f, err);
      else showErrors(f, { message: err.message });
    }
  });
  return f;
}
function edit(sub) {
  const box = $('#sub-editor');
  box.querySelector('h2').textContent = sub ? t('sub_edit_title', { name: sub.name }) : t('sub_new_title');
  box.querySelector('form').replaceWith(form(sub));
}

(async () => {
  try {
    ctx = await boot({ page: 'subscriptions.html', title: t('nav_subscriptions'), periodPicker: false, regionPicker: false });
    const list = panel(ctx.me.role === 'admin' ? t('sub_all') : t('sub_list'), el('p', { class: 'muted' }, t('subs_hint')), el('div', { id: 'subs-list' }));
    list.id = 'subs';
    const editor = panel(t('sub_new_title'), el('form'));
    editor.id = 'sub-editor';
    main.replaceChildren(plainHeading(t('nav_subscriptions')),
      el('div', { class: 'page-links' }, el('a', { href: 'alerts.html' }, t('nav_alerts'))), list, editor);
    edit(null);
    await load();
  } catch (e) { showError(main, e); }
})();
