-- 016_receivable_month_ends: the receivables KPIs (docs/kpis.md
-- "receivables", as of the period end `to`) taken at month ends, the `to`
-- of every whole-month period and of each month of a trend, read from a few
-- rows per store instead of every open invoice with its payments. Kept
-- current by core/data/rollup_asof.c: an import of invoices, payments or customers
-- redoes a store's month ends from the first one its dates touch; an import
-- of repair orders redoes the six months after its dates (the credit limit
-- of over_limit_accounts is the gross profit of the last six months). A `to`
-- that is not a month end, or is past the horizon, is computed from
-- rollup_invoice_open as before.

-- Every month end up to this day (per name: 'receivables') has its rows for
-- every store; a store with no row for such a day owes nothing that day.
CREATE TABLE IF NOT EXISTS rollup_horizon (
  name  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  day   DATE NOT NULL
) ENGINE=InnoDB;

-- Open amounts (amount less payments on or before `day`, invoices with an
-- open amount > 0 only) per month end, store, customer type and age in days
-- (from issued_on to `day`): what receivables.overdue reads, whatever the
-- terms settings are.
CREATE TABLE IF NOT EXISTS rollup_receivable_age (
  day           DATE NOT NULL,                  -- a month end
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  government    TINYINT(1) NOT NULL,            -- the customer is of type government
  age_days      INT UNSIGNED NOT NULL,
  open_amount   DECIMAL(20,2) NOT NULL,
  PRIMARY KEY (day, store_code, government, age_days),
  KEY k_receivable_age_store (store_code, day)
) ENGINE=InnoDB;

-- Per store and month end: the open amount, by the catalogue's age buckets,
-- and the customers over their credit limit.
CREATE TABLE IF NOT EXISTS rollup_receivable_month (
  store_code          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day                 DATE NOT NULL,            -- a month end
  open_amount         DECIMAL(20,2) NOT NULL,
  age_0_30            DECIMAL(20,2) NOT NULL,
  age_31_60           DECIMAL(20,2) NOT NULL,
  age_61_90           DECIMAL(20,2) NOT NULL,
  age_91_180          DECIMAL(20,2) NOT NULL,
  age_181_365         DECIMAL(20,2) NOT NULL,
  age_over_365        DECIMAL(20,2) NOT NULL,
  over_limit_accounts INT UNSIGNED NOT NULL,
  PRIMARY KEY (store_code, day),
  KEY k_receivable_month_day (day)
) ENGINE=InnoDB;

-- Amounts invoiced per store and day (issued_on), and per month (`day` =
-- its first day, as 011): receivables.dso's denominator.
CREATE TABLE IF NOT EXISTS rollup_invoice_day (
  store_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day         DATE NOT NULL,
  invoices    INT UNSIGNED NOT NULL,
  amount      DECIMAL(20,2) NOT NULL,
  PRIMARY KEY (store_code, day),
  KEY k_rollup_invoice_day (day)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS rollup_invoice_month LIKE rollup_invoice_day;
