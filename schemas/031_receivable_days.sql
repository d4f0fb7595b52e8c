-- 031_receivable_days: the receivables KPIs (docs/kpis.md "receivables", as
-- of the period end `to`) for every day up to the receivables horizon
-- (rollup_horizon 'receivables', the month end of the last invoice), one row
-- per store and day that the store owes anything, so that a month to date, a
-- quarter to date or any mid-month `to` reads a few hundred rows instead of
-- every open invoice with its payments. Written by
-- core/data/rollup_receivable_day.c from the invoices, their payments, the
-- customers' types and rollup_ro, for the days an import can change (the
-- same stores and ranges as the month ends of 016); the derived tables are
-- rebuilt after this migration, which fills it. The month ends' own per
-- store table of 016 is one day row each now, and goes; their open amounts
-- by customer type and age (rollup_receivable_age) stay, for a `to` past
-- the horizon and for terms off the buckets' edges.
CREATE TABLE IF NOT EXISTS rollup_receivable_day (
  day                  DATE NOT NULL,
  store_code           VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  open_amount          DECIMAL(20,2) NOT NULL,  -- amount less payments on or before `day`, open invoices only
  age_0_30             DECIMAL(20,2) NOT NULL,  -- the same by age in days from issued_on to `day`
  age_31_60            DECIMAL(20,2) NOT NULL,
  age_61_90            DECIMAL(20,2) NOT NULL,
  age_91_180           DECIMAL(20,2) NOT NULL,
  age_181_365          DECIMAL(20,2) NOT NULL,
  age_over_365         DECIMAL(20,2) NOT NULL,
  gov_age_0_30         DECIMAL(20,2) NOT NULL,  -- the part of each owed by government customers
  gov_age_31_60        DECIMAL(20,2) NOT NULL,  -- (overdue for terms on the buckets' edges)
  gov_age_61_90        DECIMAL(20,2) NOT NULL,
  gov_age_91_180       DECIMAL(20,2) NOT NULL,
  gov_age_181_365      DECIMAL(20,2) NOT NULL,
  gov_age_over_365     DECIMAL(20,2) NOT NULL,
  over_limit_accounts  INT UNSIGNED NOT NULL,   -- customers owing more than their ROs' gross profit of 6 months
  PRIMARY KEY (day, store_code),
  KEY k_receivable_day_store (store_code, day)
) ENGINE=InnoDB;

DROP TABLE IF EXISTS rollup_receivable_month;
