-- Per store and day (and month: `day` its first day, as 011) sums of the
-- new-car sales, so sales.units, sales.revenue and sales.referral_share
-- read a few rows per store instead of every sale of the period. Kept
-- current by core/data/rollup.c for the stores and dates (sold_on) an import
-- of vehicle_sales touched; the derived tables are rebuilt after this
-- migration, which fills them.
CREATE TABLE IF NOT EXISTS rollup_sales_day (
  store_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day         DATE NOT NULL,                    -- sold_on
  units       INT UNSIGNED NOT NULL,            -- sales that day (a vehicle sold again counts again)
  revenue     DECIMAL(20,2) NOT NULL,           -- their sale_amount
  referrals   INT UNSIGNED NOT NULL,            -- those that came through a referral
  PRIMARY KEY (store_code, day),
  KEY k_rollup_sales_day (day)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS rollup_sales_month LIKE rollup_sales_day;
