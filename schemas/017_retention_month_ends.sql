-- 017_retention_month_ends: the retention KPIs (docs/kpis.md "retention", as
-- of the period end `to`) taken at month ends, the `to` of every whole-month
-- period and of each month of a trend: per store, counts of the vehicles
-- whose state (006: rollup_vehicle_state) holds that day, by how many months
-- before it their last visit (or sale) and their latest sale fall. A KPI
-- then sums a few rows per store instead of reading every vehicle. Kept
-- current by core/data/rollup_asof.c: an import of repair orders or vehicle sales
-- takes out the old states of the VINs it touched and adds their new ones,
-- at every month end up to the horizon (rollup_horizon 'retention'); a `to`
-- that is not a month end, or past the horizon, is computed from the states
-- as before.
--
-- months_ago of a date D at a month end M: the greatest k with D on or before
-- M - k months (MariaDB's date arithmetic: the same day number, clamped to a
-- shorter month), so "D on or before M - N months" is months_ago >= N, for
-- any N a setting may name. served_after of a sale: the least k with the
-- first visit on or before sold_on + k months (65535: none).

-- Vehicles by the store of their last visit (or sale) and its months_ago:
-- base, at_risk, warning and lost.
CREATE TABLE IF NOT EXISTS rollup_retention_last (
  day           DATE NOT NULL,                  -- a month end
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,   -- last_store_code
  months_ago    SMALLINT UNSIGNED NOT NULL,     -- of the last visit or sale
  vehicles      INT NOT NULL,
  PRIMARY KEY (day, months_ago, store_code)           -- a band is one range of a day
) ENGINE=InnoDB;

-- Vehicles with a sale, by selling store, months_ago of the sale and of the
-- last visit: churn_y1..y3.
CREATE TABLE IF NOT EXISTS rollup_retention_churn (
  day           DATE NOT NULL,
  sold_ago      SMALLINT UNSIGNED NOT NULL,     -- months_ago of sold_on
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,   -- sale_store_code
  last_ago      SMALLINT UNSIGNED NOT NULL,     -- months_ago of the last visit (or the sale)
  vehicles      INT NOT NULL,
  PRIMARY KEY (day, sold_ago, store_code, last_ago)
) ENGINE=InnoDB;

-- Vehicles with a sale, by selling store, months_ago of the sale and months
-- from the sale to the first visit: first_service_rate.
CREATE TABLE IF NOT EXISTS rollup_retention_first (
  day           DATE NOT NULL,
  sold_ago      SMALLINT UNSIGNED NOT NULL,
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  served_after  SMALLINT UNSIGNED NOT NULL,     -- 65535: never
  vehicles      INT NOT NULL,
  PRIMARY KEY (day, sold_ago, store_code, served_after)
) ENGINE=InnoDB;
