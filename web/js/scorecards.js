// scorecards: pick a scorecard and a period, run it, see the ranked table and
// each store's points by item. Regional managers and admins also get an
// editor: write Lua, check it, try it on the period, save it; an error is
// shown at its line.
import {
  boot, api, el, $, kpiName, fmtNum, table, panel, showError, ApiError, heading, storeName,
} from './core.js';
import { chart, chartBox, frame } from './charts.js';
import { t } from './i18n.js';

const main = $('#main');
let ctx, list = [], selected = null;
const mayEdit = () => ['admin', 'regional_manager'].includes(ctx.me.role);

function resultView(res, target) {
  const rows = res.rows || [];
  const items = [...new Set(rows.flatMap((r) => (r.items || []).map((i) => i.kpi)))];
  const itemTitle = (k) => (ctx.catalogue[k] ? kpiName(ctx.catalogue[k]) : k);
  const columns = [
    { key: 'rank', title: t('rank'), type: 'number' },
    { key: 'label', title: t('store'), type: 'text' },
    { key: 'score', title: t('score'), type: 'number', digits: 1 },
    { key: 'grade', title: t('grade'), type: 'text' },
    ...items.map((k) => ({ key: 'p:' + k, title: `${itemTitle(k)} (${t('points')})`, type: 'number', digits: 1 })),
  ];
  const trows = rows.map((r) => {
    const o = { rank: r.rank, code: r.store, label: storeName(ctx.storeByCode[r.store] || { code: r.store }), score: r.score, grade: r.grade ?? '' };
    for (const i of r.items || []) o['p:' + i.kpi] = i.points;
    return o;
  });
  const box = chartBox('tall');
  const parts = [
    panel(t('ranking'), el('p', { class: 'muted', id: 'elapsed' }, t('elapsed', { ms: fmtNum(res.elapsed_ms ?? 0) })),
      table(columns, trows, { exportName: `scorecard-${selected || 'try'}`, sortKey: 'rank', sortDesc: false })),
    panel(t('item_points'), box),
  ];
  if (res.log?.length) parts.push(panel(t('run_log'), el('pre', { class: 'log', id: 'run-log' }, res.log.join('\n'))));
  target.replaceChildren(...parts);
  // the points of each store, item by item, the best store first
  chart(box, frame({ horizontal: true, categories: trows.map((r) => r.label),
    series: items.length ? items.map((k) => ({ name: itemTitle(k), type: 'bar', unit: 'points', stack: 'p', data: trows.map((r) => r['p:' + k] ?? 0) }))
      : [{ name: t('score'), type: 'bar', unit: 'points', data: trows.map((r) => r.score) }] }));
}

function errorView(e, target, gutter) {
  const line = e instanceof ApiError ? e.details?.[0]?.line : null;
  target.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'script-error' },
    line ? `${t('line', { n: line })}: ${e.message}` : e.message));
  if (gutter && line) gutter.mark(line);
}

function editor(initial = '') {
  const area = el('textarea', { id: 'source', spellcheck: 'false', 'aria-label': t('editor') });
  area.value = initial;
  const gutter = el('div', { class: 'gutter', id: 'gutter' });
  let bad = 0;
  const draw = () => {
    const n = area.value.split('\n').length;
    gutter.replaceChildren(...Array.from({ length: n }, (_, i) => el('span', { class: i + 1 === bad ? 'bad-line' : '' }, `${i + 1}\n`)));
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener('input', () => { bad = 0; draw(); });
  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  draw();
  return { node: el('div', { class: 'editor' }, gutter, area), area, mark: (l) => { bad = l; draw(); } };
}

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  try { list = await api('GET', '/api/v1/scorecards'); } catch (e) { showError(main, e); return; }
  const pick = el('select', { id: 'scorecard-pick', 'aria-label': t('pick_scorecard') },
    ...list.map((s) => el('option', { value: s.name, selected: s.name === selected }, `${s.title || s.name} (${s.name})`)));
  const runBtn = el('button', { class: 'btn', id: 'run', type: 'button' }, t('run'));
  const out = el('div', { id: 'result' });
  const controls = el('div', { class: 'editor-bar' }, el('span', { class: 'muted' }, t('pick_scorecard')), pick, runBtn);
  const runPanel = panel(t('run'), controls);
  runPanel.classList.add('no-print');
  const parts = [heading(t('scorecards'), period), runPanel, out];

  let ed = null, nameInput = null, edMsg = null;
  if (mayEdit()) {
    ed = editor('');
    nameInput = el('input', { id: 'scorecard-name', placeholder: 'my_scorecard', pattern: '[a-z0-9_-]{1,64}' });
    edMsg = el('div', { id: 'editor-message' });
    const load = el('button', { class: 'btn secondary', type: 'button', id: 'edit' }, t('editor'));
    load.addEventListener('click', async () => {
      try {
        const sc = await api('GET', `/api/v1/scorecards/${encodeURIComponent(pick.value)}`);
        ed.area.value = sc.source; ed.area.dispatchEvent(new Event('input')); nameInput.value = sc.name;
      } catch (e) { errorView(e, edMsg); }
    });
    controls.append(load);
    const period_q = () => `from=${ctx.period.from}&to=${ctx.period.to}`;
    const check = el('button', { class: 'btn secondary', type: 'button', id: 'check' }, t('check'));
    const tryBtn = el('button', { class: 'btn secondary', type: 'button', id: 'try' }, t('try_run'));
    const save = el('button', { class: 'btn', type: 'button', id: 'save' }, t('save'));
    check.addEventListener('click', async () => {
      try {
        await api('POST', `/api/v1/scorecards/run?${period_q()}&check=1`, ed.area.value, { contentType: 'text/x-lua' });
        edMsg.replaceChildren(el('div', { class: 'notice' }, t('check_ok')));
      } catch (e) { errorView(e, edMsg, ed); }
    });
    tryBtn.addEventListener('click', async () => {
      edMsg.replaceChildren();
      try { resultView(await api('POST', `/api/v1/scorecards/run?${period_q()}`, ed.area.value, { contentType: 'text/x-lua' }), out); }
      catch (e) { errorView(e, edMsg, ed); }
    });
    save.addEventListener('click', async () => {
      const name = nameInput.value.trim();
      if (!/^[a-z0-9_-]{1,64}$/.test(name) || name === 'run') { nameInput.focus(); return; }
      try {
        await api('PUT', `/api/v1/scorecards/${name}`, ed.area.value, { contentType: 'text/x-lua' });
        edMsg.replaceChildren(el('div', { class: 'notice' }, t('saved')));
        selected = name;
        setTimeout(() => render(ctx.period), 300);
      } catch (e) { errorView(e, edMsg, ed); }
    });
    const edPanel = panel(t('editor'), el('div', { class: 'editor-bar' }, el('span', { class: 'muted' }, t('name')), nameInput, check, tryBtn, save), edMsg, ed.node);
    edPanel.classList.add('no-print');
    parts.push(edPanel);
  }
  main.replaceChildren(...parts);
  runBtn.addEventListener('click', async () => {
    selected = pick.value;
    out.replaceChildren(el('div', { class: 'loading' }, t('loading')));
    try { resultView(await api('POST', `/api/v1/scorecards/${encodeURIComponent(selected)}/run?from=${period.from}&to=${period.to}`), out); }
    catch (e) { errorView(e, out); }
  });
  if (selected || list.length) runBtn.click();
}

(async () => {
  try {
    ctx = await boot({ page: 'scorecards.html', title: t('scorecards'), onPeriod: render });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
