-- 014_survey_policy_rollups: per store and day (and month) sums of the
-- customer surveys and of the insurance premium sold, so csi.score,
-- csi.responses and the premium KPIs of insurance read a few rows per store
-- instead of every survey or policy of the period. Same pairing as 011: the
-- month table has the day table's columns, `day` its first day. Kept current
-- by core/data/rollup.c for the stores and dates an import of csi_surveys
-- (surveyed_on) or insurance_policies (sold_on) touched; the upgrade fills
-- them (the derived tables are rebuilt after migrating a database with data).
CREATE TABLE IF NOT EXISTS rollup_csi_day (
  store_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day         DATE NOT NULL,                    -- surveyed_on
  responses   INT UNSIGNED NOT NULL,            -- surveys that day
  score_sum   DECIMAL(20,4) NOT NULL,           -- sum of 0.32 reliability + 0.22 responsiveness + 0.19 assurance + 0.16 empathy + 0.11 tangibles
  PRIMARY KEY (store_code, day),
  KEY k_rollup_csi_day (day)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS rollup_csi_month LIKE rollup_csi_day;
CREATE TABLE IF NOT EXISTS rollup_premium_day (
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day           DATE NOT NULL,                  -- sold_on
  insurer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind          ENUM('new','renewal') NOT NULL,
  policies      INT UNSIGNED NOT NULL,
  premium       DECIMAL(20,2) NOT NULL,
  PRIMARY KEY (store_code, day, insurer_code, kind),
  KEY k_rollup_premium_day (day)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS rollup_premium_month LIKE rollup_premium_day;
