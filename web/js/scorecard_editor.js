// scorecard_editor: the scorecard editor of scorecards.html, for regional
// managers and admins. Copy any scorecard the reader may run into one of
// their own (or edit their own), with line numbers; check it (a syntax or run
// error is marked at its line, and the cursor goes there); insert a KPI id,
// a setting in force or a scoring helper from pickers that show names and
// units; try it on the period without saving; save it; and restore an
// earlier version. Words come from i18n.js; the routes are docs/api.md's.
import { api, el, kpiName, panel, ApiError } from './core.js';
import { t, localized } from './i18n.js';

// The helpers of the scorecard API (docs/scorecards.md), as snippets.
const SNIPPETS = [
  ['snippet_at_least', 'at_least(value, good, bad, points)'],
  ['snippet_at_most', 'at_most(value, good, bad, points)'],
  ['snippet_band', 'band(value, low, high, bad_low, bad_high, points)'],
  ['snippet_ratio', 'ratio(a, b)'],
  ['snippet_target', 'target("labour.share")'],
  ['snippet_benchmark', 'benchmark("labour.share")'],
  ['snippet_budget', 'budget("service.revenue", s.code)'],
  ['snippet_item', '{ id = "labour.share", weight = 10, score = "at_least", good = 0.30, bad = 0.20 },'],
  ['snippet_loop', 'for _, s in ipairs(stores()) do\n  local v = values[s.code]\nend'],
];

// A name of one's own for a copy: "<user>_<name>", kept to [a-z0-9_-]{1,64}.
export function copyName(user, name) {
  const clean = (x) => String(x).toLowerCase().replace(/[^a-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  const base = `${clean(user) || 'my'}_${clean(name)}`.slice(0, 64).replace(/_+$/, '');
  return base === 'run' ? 'my_run' : base;
}

function lineEditor() {
  const area = el('textarea', { id: 'source', spellcheck: 'false', 'aria-label': t('editor'), wrap: 'off' });
  const gutter = el('div', { class: 'gutter', id: 'gutter', 'aria-hidden': 'true' });
  let bad = 0;
  const draw = () => {
    const n = area.value.split('\n').length;
    gutter.replaceChildren(...Array.from({ length: n }, (_, i) => el('span', { class: i + 1 === bad ? 'bad-line' : '', dataset: { line: i + 1 } }, `${i + 1}\n`)));
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener('input', () => { bad = 0; draw(); });
  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  draw();
  const set = (text) => { area.value = text; bad = 0; draw(); };
  // Mark a line and move the cursor (and the view) to it.
  const mark = (line) => {
    bad = line;
    draw();
    const lines = area.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || '').length);
    const height = parseFloat(getComputedStyle(area).lineHeight) || 19;
    area.scrollTop = Math.max(0, (line - 3) * height);
    gutter.scrollTop = area.scrollTop;
  };
  // Insert text at the cursor (replacing the selection).
  const insert = (text) => {
    const a = area.selectionStart ?? area.value.length, b = area.selectionEnd ?? a;
    area.value = area.value.slice(0, a) + text + area.value.slice(b);
    area.focus();
    area.setSelectionRange(a + text.length, a + text.length);
    area.dispatchEvent(new Event('input'));
  };
  return { node: el('div', { class: 'editor' }, gutter, area), area, set, mark, insert };
}

// A picker: a select whose first option names it; choosing inserts and resets.
function picker(id, label, options, onPick) {
  const s = el('select', { id, 'aria-label': label, class: 'picker' }, el('option', { value: '' }, label),
    ...options.map(([value, text, group]) => el('option', { value, dataset: group ? { group } : {} }, text)));
  s.addEventListener('change', () => { if (s.value) onPick(s.value); s.value = ''; });
  return s;
}

// The editor's panel. opts: {ctx, pick (the scorecard select), controls (its bar),
// period(), onResult(res), onError(e), onSaved(name)}.
export function editorPanel(opts) {
  const { ctx } = opts;
  const ed = lineEditor();
  const nameInput = el('input', { id: 'scorecard-name', placeholder: 'my_scorecard', pattern: '[a-z0-9_-]{1,64}', 'aria-label': t('name') });
  const msg = el('div', { id: 'editor-message' });
  const versions = el('div', { id: 'versions' });
  const q = () => `from=${opts.period().from}&to=${opts.period().to}`;
  const fail = (e) => {
    const line = e instanceof ApiError ? e.details?.[0]?.line : null;
    msg.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'script-error', dataset: line ? { line } : {} },
      line ? `${t('line', { n: line })}: ${e.message}` : e.message));
    if (line) ed.mark(line);
  };
  const note = (text) => msg.replaceChildren(el('div', { class: 'notice', id: 'editor-notice' }, text));

  const showVersions = (sc) => {
    const mine = ctx.me.role === 'admin' || sc.owner === ctx.me.username;
    if (!mine) { versions.replaceChildren(); return; }
    versions.replaceChildren(el('h3', {}, t('versions')), el('ul', { class: 'versions' }, ...(sc.versions || []).map((v) => el('li', {},
      el('span', {}, t('version_line', { n: v.version, at: v.saved_at, by: v.saved_by })),
      el('button', { class: 'btn small secondary', type: 'button', dataset: { version: v.version }, onclick: async () => {
        try {
          await api('POST', `/api/v1/scorecards/${encodeURIComponent(sc.name)}/restore?version=${v.version}`);
          await open(sc.name, false);
          note(t('restored', { n: v.version }));
        } catch (e) { fail(e); }
      } }, t('restore'))))));
  };
  // Load a scorecard: as a copy of one's own (copy), or as it is to edit it.
  async function open(name, copy) {
    const sc = await api('GET', `/api/v1/scorecards/${encodeURIComponent(name)}`);
    ed.set(sc.source);
    if (copy) {
      const title = sc.source.split('\n')[0];
      ed.set(sc.source.replace(/^--[^\n]*/, `${title} ${t('copy_suffix')}`));
      nameInput.value = copyName(ctx.me.username, sc.name);
      versions.replaceChildren();
      note(t('copied', { name: sc.name, mine: nameInput.value }));
    } else {
      nameInput.value = sc.name;
      showVersions(sc);
      msg.replaceChildren();
    }
    return sc;
  }
  const copyBtn = el('button', { class: 'btn secondary', type: 'button', id: 'copy' }, t('copy_mine'));
  copyBtn.addEventListener('click', () => open(opts.pick.value, true).catch(fail));
  const editBtn = el('button', { class: 'btn secondary', type: 'button', id: 'edit' }, t('edit'));
  editBtn.addEventListener('click', () => open(opts.pick.value, false).catch(fail));
  // Edit only what one may change: one's own (admins: all); the others are copied.
  const listed = new Map();
  const refreshButtons = async () => {
    if (!listed.size) for (const s of await api('GET', '/api/v1/scorecards')) listed.set(s.name, s);
    const s = listed.get(opts.pick.value);
    editBtn.hidden = !(s && (ctx.me.role === 'admin' || s.owner === ctx.me.username));
  };
  opts.pick.addEventListener('change', () => refreshButtons().catch(() => {}));
  refreshButtons().catch(() => {});
  opts.controls.append(copyBtn, editBtn);

  const check = el('button', { class: 'btn secondary', type: 'button', id: 'check' }, t('check'));
  check.addEventListener('click', async () => {
    try {
      await api('POST', `/api/v1/scorecards/run?${q()}&check=1`, ed.area.value, { contentType: 'text/x-lua' });
      note(t('check_ok'));
    } catch (e) { fail(e); }
  });
  const tryBtn = el('button', { class: 'btn secondary', type: 'button', id: 'try' }, t('try_run'));
  tryBtn.addEventListener('click', async () => {
    msg.replaceChildren();
    try {
      const res = await api('POST', `/api/v1/scorecards/run?${q()}`, ed.area.value, { contentType: 'text/x-lua' });
      opts.onResult(res);
      note(t('tried'));
    } catch (e) { fail(e); }
  });
  const save = el('button', { class: 'btn', type: 'button', id: 'save' }, t('save'));
  save.addEventListener('click', async () => {
    const name = nameInput.value.trim();
    if (!/^[a-z0-9_-]{1,64}$/.test(name) || name === 'run') {
      msg.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'script-error' }, t('bad_name')));
      nameInput.focus();
      return;
    }
    try {
      await api('PUT', `/api/v1/scorecards/${name}`, ed.area.value, { contentType: 'text/x-lua' });
      note(t('saved'));
      listed.clear();
      const sc = await api('GET', `/api/v1/scorecards/${encodeURIComponent(name)}`);
      showVersions(sc);
      opts.onSaved?.(name);
    } catch (e) { fail(e); }
  });

  // the pickers: KPIs by name with id and unit, the settings in force, the helpers
  const kpis = Object.values(ctx.catalogue).sort((a, b) => a.id.localeCompare(b.id))
    .map((d) => [d.id, `${kpiName(d)} · ${d.id} · ${t('unit_of', { u: unitName(d.unit) })}`]);
  const kpiPick = picker('kpi-pick', t('insert_kpi'), kpis, (id) => ed.insert(`kpi("${id}")`));
  // the settings in force, with their names (the catalogue's setting_defs): inserted as the value with its name
  let defs = [], inForce = {};
  const settingPick = picker('setting-pick', t('insert_setting'), [], (name) => {
    const d = defs.find((x) => x.name === name);
    ed.insert(`${inForce[name] ?? d?.default} --[[ ${name}: ${localized(d?.label, name)} ]]`);
  });
  api('GET', '/api/v1/kpis').then((cat) => {
    defs = cat.setting_defs || [];
    inForce = cat.settings || {};
    settingPick.append(...defs.map((d) => el('option', { value: d.name }, `${localized(d.label, d.name)} · ${d.name} = ${inForce[d.name] ?? d.default}`)));
  }).catch(() => {});
  const helperPick = picker('helper-pick', t('insert_helper'), SNIPPETS.map(([k, code]) => [code, `${t(k)} · ${code.split('\n')[0]}`]),
    (code) => ed.insert(code));
  const bar = el('div', { class: 'editor-bar' }, el('span', { class: 'muted' }, t('name')), nameInput, check, tryBtn, save);
  const pickers = el('div', { class: 'editor-bar pickers' }, kpiPick, settingPick, helperPick);
  const p = panel(t('editor'), el('p', { class: 'muted' }, t('editor_hint')), bar, pickers, msg, ed.node, versions);
  p.classList.add('no-print');
  p.id = 'editor-panel';
  return p;
}

// A unit as a reader says it.
const UNIT_KEYS = { count: 'unit_name_count', CNY: 'unit_name_cny', ratio: 'unit_name_ratio', 'CNY/h': 'unit_name_cny_h',
  h: 'unit_name_h', 'times/yr': 'unit_name_times_yr', days: 'unit_name_days', score: 'unit_name_score' };
const unitName = (unit) => (UNIT_KEYS[unit] ? t(UNIT_KEYS[unit]) : unit || t('unit_name_none'));
