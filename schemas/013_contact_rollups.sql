-- 013_contact_rollups: the service KPIs about contact with the customer
-- (appointment rate, follow-up rate, complaint rate: docs/kpis.md
-- "service") read per store and day (or month) sums instead of looking up
-- every RO of the period in appointments and follow_up_calls.
--   rollup_ro: per RO, whether a kept appointment names it, how many days
--     after its closing day its first reached call came (NULL: none on or
--     after that day), and its reached calls with and without a complaint.
--   rollup_ro_day / rollup_ro_month: their sums.
--   rollup_ro_followup_day / _month: ROs by that lag in days, so the
--     follow-up rate works for any service.followup_days: ROs reached within
--     N days = SUM(ro_count) WHERE lag_days <= N.
-- Kept current by core/data/rollup.c (imports of appointments and follow-up
-- calls refresh the days of the ROs they name). The upgrade fills them: a
-- database with data has its derived tables rebuilt after migrating.
ALTER TABLE rollup_ro
  ADD COLUMN IF NOT EXISTS appointment_kept TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS followup_lag INT NULL,
  ADD COLUMN IF NOT EXISTS reached_calls INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS complaint_calls INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE rollup_ro_day
  ADD COLUMN IF NOT EXISTS appointment_kept_count INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS reached_calls INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS complaint_calls INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE rollup_ro_month
  ADD COLUMN IF NOT EXISTS appointment_kept_count INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS reached_calls INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS complaint_calls INT UNSIGNED NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS rollup_ro_followup_day (
  store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day        DATE NOT NULL,                    -- DATE(closed_at)
  lag_days   INT NOT NULL,                     -- days from the closing day to the first reached call
  ro_count   INT UNSIGNED NOT NULL,
  PRIMARY KEY (store_code, day, lag_days),
  KEY k_rollup_followup_day (day)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS rollup_ro_followup_month LIKE rollup_ro_followup_day;
