// retention_leap: retention.first_service_rate at a month end whose cohort
// starts on a day the month-end counts (schemas/017) do not name. With F = 6
// (retention.first_service_months) and `to` = 2025-08-31, the cohort is the
// vehicles whose latest sale is in ((to - 6 months) - 12 months, to - 6
// months] = (2024-02-28, 2025-02-28]: 2025-02-28 less 12 months is clamped to
// the 28th, while the month-end counts know to - 18 months = 2024-02-29. The
// KPI must still answer from the month-end counts (the statement trace
// shows rollup_retention_first read) and count the car sold on 2024-02-29.
//
// The group, written here: one store S1 in region R1, five cars sold there.
//   V1 sold 2024-02-28, served 2024-05-01: on the cohort's open start, out
//   V2 sold 2024-02-29, served 2024-06-15: in the cohort, served by 2024-08-29
//   V3 sold 2024-03-01, never served:      in, not served
//   V4 sold 2025-02-28, served 2025-08-20: in (the end is closed), served by 2025-08-28
//   V5 sold 2025-03-01, served 2025-04-01: after the cohort's end, out
// So the rate is 2 served of 3 = 2/3 (without V2: 1/2). A repair order
// closed 2025-09-02 takes the month-end horizon past 2025-08-31.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { startServer, tempDir } from './lib.mjs';

let s, admin, trace;

const FILES = {
  regions: 'region_code,name\nR1,华南区\n',
  stores: 'store_code,name,brand,region_code,city,opened_on\nS1,广州天河丰田,丰田,R1,广州,2015-06-01\n',
  customers: 'store_code,customer_code,type,name\nS1,C1,individual,黄先生\n',
  vehicle_sales: 'store_code,deal_no,vin,sold_on,customer_code,model,sale_amount,referral\n'
    + ['2024-02-28', '2024-02-29', '2024-03-01', '2025-02-28', '2025-03-01']
      .map((day, i) => `S1,D${i + 1},LFVKP00000000000${i + 1},${day},C1,卡罗拉,150000,0`).join('\n') + '\n',
  repair_orders: 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n'
    + [[1, '2024-05-01'], [2, '2024-06-15'], [4, '2025-08-20'], [5, '2025-04-01'], [5, '2025-09-02']]
      .map(([v, day], i) => `S1,R${i + 1},LFVKP00000000000${v},C1,maintenance,customer,${day} 09:00,${day} 10:00`)
      .join('\n') + '\n',
};

before(async () => {
  const dir = tempDir('fs-leap-');
  trace = join(dir, 'kpi-trace.sql');
  s = await startServer({ env: { FOURSCORE_KPI_TRACE: trace } });
  await s.importTexts(dir, FILES);
  admin = await s.adminCookie();
});

after(async () => { if (s) await s.stop(); });

test('first service rate at a leap-shifted month end: from the month-end counts, with the 29th counted', async () => {
  writeFileSync(trace, '');
  const r = await s.request('GET', '/api/v1/kpi?ids=retention.first_service_rate&from=2025-08-01&to=2025-08-31&by=store',
    { cookie: admin });
  assert.equal(r.status, 200, r.text);
  const v = r.json.rows.find((x) => x.key === 'S1').values['retention.first_service_rate'];
  assert.ok(Math.abs(v - 2 / 3) < 1e-9, `2 of 3 served (V2 sold on 2024-02-29 counts), got ${v}`);
  const statements = readFileSync(trace, 'utf8').split('\n').filter((l) => l.startsWith('/* retention.first_service_rate */'));
  assert.ok(statements.length > 0, 'the KPI ran statements');
  assert.ok(statements.some((l) => l.includes('rollup_retention_first')), `read the month-end counts:\n${statements.join('\n')}`);
  // a day that is not a month end is answered from the states: as of 2025-08-27
  // the cohort is (2024-02-27, 2025-02-27]: V1, V2, V3 (V4 is sold after it);
  // V1 and V2 served within 6 months: 2/3
  const mid = await s.request('GET', '/api/v1/kpi?ids=retention.first_service_rate&from=2025-08-01&to=2025-08-27&by=store',
    { cookie: admin });
  assert.equal(mid.status, 200, mid.text);
  const m = mid.json.rows.find((x) => x.key === 'S1').values['retention.first_service_rate'];
  assert.ok(Math.abs(m - 2 / 3) < 1e-9, `as of 2025-08-27: 2 of 3, got ${m}`);
});
