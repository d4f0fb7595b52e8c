-- 019_freshness: how far each store's data goes (docs/api.md "freshness"),
-- kept by the imports so that asking costs a read of a few rows per store
-- and never a scan of the facts. core/data/freshness.c writes it inside
-- each import's transaction (import_batch.c, at the end of a file): for
-- every store the file has rows of and every entity counted, the latest
-- date of the entity's main date column for that store, recomputed from
-- the facts (so a correction that lowers it is seen), and the time the
-- import finished, in FOURSCORE_TZ. The demo's bulk loader goes through the
-- same importer, so it leaves the table filled too.

CREATE TABLE IF NOT EXISTS freshness (
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  entity       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  latest       DATE NULL,                      -- null: no row of the entity has a date (e.g. every RO still open)
  imported_at  DATETIME NULL,                  -- FOURSCORE_TZ local time of the last committed import
  PRIMARY KEY (store_code, entity)
) ENGINE=InnoDB;

-- A store's `through`: the latest closed_at date of its non-internal ROs.
CREATE TABLE IF NOT EXISTS freshness_through (
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  through_on   DATE NULL
) ENGINE=InnoDB;

-- The greatest date of a store is one index dive for every entity counted
-- (the others have an index on (store_code, date) already).
ALTER TABLE payments ADD KEY IF NOT EXISTS k_payment_store_paid (store_code, paid_on);
ALTER TABLE follow_up_calls ADD KEY IF NOT EXISTS k_followup_store_called (store_code, called_at);
ALTER TABLE appointments ADD KEY IF NOT EXISTS k_appt_store_booked (store_code, booked_at);

-- A database imported before this migration: the dates from the facts; the
-- import time is that of the entity's last audited import (when no import
-- was audited, e.g. rows written by hand, the migration's own time), both
-- taken in the default zone Asia/Shanghai (UTC+8: the audit log is in UTC).
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'vehicle_sales', MAX(sold_on), NULL FROM vehicle_sales GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'repair_orders', DATE(MAX(closed_at)), NULL FROM repair_orders GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'parts_stock', MAX(snapshot_on), NULL FROM parts_stock GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'insurance_policies', MAX(sold_on), NULL FROM insurance_policies GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'invoices', MAX(issued_on), NULL FROM invoices GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'payments', MAX(paid_on), NULL FROM payments GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'store_financials', LAST_DAY(CONCAT(MAX(month), '-01')), NULL FROM store_financials GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'follow_up_calls', DATE(MAX(called_at)), NULL FROM follow_up_calls GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'csi_surveys', MAX(surveyed_on), NULL FROM csi_surveys GROUP BY store_code;
INSERT IGNORE INTO freshness (store_code, entity, latest, imported_at)
  SELECT store_code, 'appointments', DATE(MAX(booked_at)), NULL FROM appointments GROUP BY store_code;
UPDATE freshness f SET imported_at = COALESCE(
  (SELECT CAST(MAX(a.at) AS DATETIME) FROM audit_log a WHERE a.action = 'import' AND a.target = f.entity),
  UTC_TIMESTAMP()) + INTERVAL 8 HOUR
  WHERE f.imported_at IS NULL;
INSERT IGNORE INTO freshness_through (store_code, through_on)
  SELECT store_code, DATE(MAX(closed_at)) FROM repair_orders WHERE ro_type <> 'internal' GROUP BY store_code;
