-- 015_insurance_matches: insurance.renewal_rate and insurance.new_penetration
-- (docs/kpis.md "insurance") each look for a matching policy of the same VIN
-- anywhere in the group, within a window of days that is a setting. The
-- match is looked up once, when policies or sales are imported, and kept as
-- a distance in days; a KPI then reads per-store counts by day (or month)
-- and distance, and compares the distance with the window in force. Kept
-- current by core/data/rollup_match.c for the VINs an import of
-- insurance_policies or vehicle_sales touched; the upgrade fills them (the
-- derived tables are rebuilt after migrating a database with data).
-- gap = 99999 means no match at all (farther than any window can reach).

-- Per policy: days between its ends_on and the nearest starts_on of another
-- policy of its VIN that starts after it starts (a renewal candidate).
CREATE TABLE IF NOT EXISTS rollup_policy_match (
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  policy_no     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  vin           CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  insurer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day           DATE NOT NULL,                  -- ends_on
  gap           INT UNSIGNED NOT NULL,          -- |nearest later-starting policy's starts_on - ends_on|; 99999: none
  PRIMARY KEY (store_code, policy_no),
  KEY k_policy_match_vin (vin),
  KEY k_policy_match_day (store_code, day, insurer_code, gap)
) ENGINE=InnoDB;

-- Per vehicle sale: days between its sold_on and the nearest sold_on of a
-- `new` policy of its VIN.
CREATE TABLE IF NOT EXISTS rollup_sale_match (
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  deal_no       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  vin           CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day           DATE NOT NULL,                  -- the sale's sold_on
  gap           INT UNSIGNED NOT NULL,          -- |nearest new policy's sold_on - sold_on|; 99999: none
  PRIMARY KEY (store_code, deal_no),
  KEY k_sale_match_vin (vin),
  KEY k_sale_match_day (store_code, day, gap)
) ENGINE=InnoDB;

-- Policies ending per store, day (ends_on), insurer and gap; the month table
-- has the same columns, `day` the month's first day (as 011).
CREATE TABLE IF NOT EXISTS rollup_renewal_day (
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day           DATE NOT NULL,
  insurer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  gap           INT UNSIGNED NOT NULL,
  policies      INT UNSIGNED NOT NULL,
  PRIMARY KEY (day, store_code, insurer_code, gap)     -- a period is one range, read in place
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS rollup_renewal_month LIKE rollup_renewal_day;

-- Vehicle sales per store, day (sold_on) and gap; month table as above.
CREATE TABLE IF NOT EXISTS rollup_new_policy_day (
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day           DATE NOT NULL,
  gap           INT UNSIGNED NOT NULL,
  sales         INT UNSIGNED NOT NULL,
  PRIMARY KEY (day, store_code, gap)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS rollup_new_policy_month LIKE rollup_new_policy_day;
