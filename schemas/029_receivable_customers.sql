-- Open amounts per month end, store and customer (the customers owing
-- anything then: the sum of their invoices' positive open amounts, as
-- rollup_receivable_age counts them), kept with the other month-end tables
-- of 016 by core/data/rollup_month_end.c. receivables.over_limit_accounts
-- on a day that is not a month end reads the nearer month end's rows and
-- the invoices issued or paid between the two days, as the aging KPIs do
-- (plugins/receivables), instead of every invoice open on that day. The
-- derived tables are rebuilt after this migration, which fills it.
CREATE TABLE IF NOT EXISTS rollup_receivable_customer (
  day            DATE NOT NULL,                 -- a month end
  store_code     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  open_amount    DECIMAL(20,2) NOT NULL,
  PRIMARY KEY (day, store_code, customer_code),
  KEY k_receivable_customer_store (store_code, day)
) ENGINE=InnoDB;
