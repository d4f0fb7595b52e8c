// forms: what the editors of the alert rules and the subscriptions share:
// a labelled field with a place for its error, the server's 400 (or 403)
// answer shown beside the field it names (details[].parameter, e.g.
// "notify[1].email"; a field not on the form gets the form's own error
// line), and a short-lived notice.
import { el } from './core.js';
import { t } from './i18n.js';

// A field: its label, the control(s) and the error line of `name` (the API's parameter name).
export function field(label, control, name, { wide = false, hint = null } = {}) {
  return el('label', { class: `field${wide ? ' wide' : ''}`, dataset: { field: name } },
    el('span', {}, label), ...[control].flat(), hint ? el('small', { class: 'muted' }, hint) : null,
    el('small', { class: 'field-error', dataset: { errorFor: name }, role: 'alert' }));
}
// A group of controls that is not one input (checkboxes, a list of targets): a div, not a label.
export function group(label, control, name, { hint = null } = {}) {
  return el('div', { class: 'field wide', dataset: { field: name } },
    el('span', {}, label), control, hint ? el('small', { class: 'muted' }, hint) : null,
    el('small', { class: 'field-error', dataset: { errorFor: name }, role: 'alert' }));
}
export function clearErrors(form) {
  for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
  for (const f of form.querySelectorAll('.field.bad')) f.classList.remove('bad');
}
// The error line for a parameter: its own, else the nearest named one
// ("notify[1].email" → "notify[1]" → "notify"), else the form's.
function errorLine(form, param) {
  let p = param || '';
  while (p) {
    const e = form.querySelector(`.field-error[data-error-for="${CSS.escape(p)}"]`);
    if (e) return e;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return form.querySelector('.field-error[data-error-for="form"]');
}
// Show an API error on the form: beside the field(s) it names, else on the form's line.
export function showErrors(form, e) {
  clearErrors(form);
  const details = e?.details?.length ? e.details : [{ parameter: null, message: e?.message || t('error') }];
  for (const d of details) {
    const line = errorLine(form, d.parameter);
    line.textContent = d.message || e.message;
    line.closest('.field')?.classList.add('bad');
  }
  errorLine(form, details[0].parameter)?.closest('.field')?.scrollIntoView?.({ block: 'nearest' });
}
// A notice that goes after a few seconds.
export function notice(container, text) {
  const n = el('div', { class: 'notice', role: 'status' }, text);
  container.prepend(n);
  setTimeout(() => n.remove(), 6000);
}
