// kpi_fixture: what the KPI correctness tests share (kpi_correctness.test.mjs,
// kpi_correctness_4s.test.mjs): the hand-made fixture of tests/fixtures/kpi/,
// loaded through the real importer (`fourscore import`) into a fresh local
// database served by a real server (loadKpiFixture(), called at the top of a
// test file), and the helpers that ask GET /api/v1/kpi and compare with the
// values worked out by hand. The fixture itself is described at the top of
// kpi_correctness.test.mjs.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, fixtures } from './lib.mjs';

export const FIXTURE = join(fixtures, 'kpi');
export const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders',
  'ro_labour', 'ro_parts', 'parts_stock', 'insurance_policies', 'invoices', 'payments', 'store_financials',
  'follow_up_calls', 'csi_surveys', 'appointments'];
export const KEYS = ['S1', 'S2', 'N1', 'N2', 'SOUTH', 'NORTH', 'group'];
export const MARCH = { from: '2024-03-01', to: '2024-03-31' };
export const DAYS = 31;

export const fx = { server: null, cookie: null };

export function loadKpiFixture() {
  before(async () => {
    fx.server = await startServer();
    for (const entity of ENTITIES) {
      const r = await fx.server.cli(['import', entity, join(FIXTURE, `${entity}.csv`)]);
      assert.equal(r.code, 0, `import ${entity} failed:\n${r.stdout}\n${r.stderr}`);
    }
    fx.cookie = await fx.server.adminCookie();
  });

  after(async () => {
    if (!fx.server) return;
    const res = await fx.server.stop();
    const stderr = fx.server.stderr();
    // a sanitizer report (leak at exit included) makes the server exit non-zero
    assert.equal(res.code, 0, `server exited with ${res.code} ${res.signal ?? ''}\n${stderr.slice(-4000)}`);
  });
}

// --- asking the server and checking the answers ---

// GET /api/v1/kpi; returns {key: {id: value}} and checks the answer's shape.
export async function kpi(ids, { from, to }, by, extra = '') {
  const q = `/api/v1/kpi?ids=${ids.join(',')}&from=${from}&to=${to}&by=${by}${extra}`;
  const r = await fx.server.request('GET', q, { cookie: fx.cookie });
  assert.equal(r.status, 200, `${q}: ${r.status} ${r.text}`);
  assert.equal(r.json.by, by);
  const rows = {};
  for (const row of r.json.rows) rows[row.key] = row.values;
  return rows;
}

// The same KPIs by store, by region and for the group, in one map keyed like KEYS.
export async function allLevels(ids, period = MARCH, extra = '') {
  const [stores, regions, group] = await Promise.all(
    ['store', 'region', 'group'].map((by) => kpi(ids, period, by, extra)));
  return { ...stores, ...regions, ...group };
}

export function near(got, want, what) {
  if (want === null) {
    assert.equal(got, null, `${what}: want null, got ${got}`);
    return;
  }
  assert.equal(typeof got, 'number', `${what}: want ${want}, got ${got}`);
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${what}: want ${want}, got ${got}`);
}

// expected: {id: {key: value}} — checks every key given.
export async function checkAll(expected, period = MARCH, extra = '') {
  const ids = Object.keys(expected);
  const rows = await allLevels(ids, period, extra);
  for (const id of ids) {
    for (const [key, want] of Object.entries(expected[id])) {
      assert.ok(rows[key], `${id}: no row ${key} (rows: ${Object.keys(rows).join(',')})`);
      near(rows[key][id], want, `${id} ${key} ${period.from}..${period.to}${extra}`);
    }
  }
}

export const row = (s1, s2, n1, n2, south, north, group) => ({ S1: s1, S2: s2, N1: n1, N2: n2, SOUTH: south, NORTH: north, group });

export async function withSettings(settings, fn) {
  const put = await fx.server.request('PUT', '/api/v1/settings', { cookie: fx.cookie, body: settings });
  assert.equal(put.status, 200, `PUT settings ${JSON.stringify(settings)}: ${put.status} ${put.text}`);
  try {
    await fn();
  } finally {
    const defaults = {};
    for (const name of Object.keys(settings)) defaults[name] = DEFAULT_SETTINGS[name];
    const back = await fx.server.request('PUT', '/api/v1/settings', { cookie: fx.cookie, body: defaults });
    assert.equal(back.status, 200, `restoring settings: ${back.status} ${back.text}`);
  }
}

export const DEFAULT_SETTINGS = {
  'retention.lost_after_months': 9, 'retention.at_risk_months': 3, 'retention.warning_months': 6,
  'retention.base_months': 24, 'retention.first_service_months': 6, 'receivables.terms_days': 90,
  'receivables.government_terms_days': 180, 'parts.slow_moving_days': 180, 'parts.obsolete_days': 365,
  'service.followup_days': 3, 'insurance.renewal_window_days': 30, 'insurance.new_window_days': 30,
  'retention.maintenance_interval_months': 6, 'retention.maintenance_notice_days': 30,
  'insurance.renewal_notice_days': 60,
};

// --- the catalogue ---
