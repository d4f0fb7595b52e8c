-- 011_month_rollups: per store and calendar month, the same sums as the
-- per-day rollups, so a KPI over a year reads twelve rows per store instead
-- of 365. `day` holds the first day of the month. The columns are exactly
-- those of the day tables (CREATE ... LIKE): a plugin reads a period as its
-- whole months from here plus its partial months' days from the day table,
-- with one UNION ALL (plugins/kpi_common.h, KC_SQL_DAYS). Kept current by
-- core/data/rollup.c from the day tables, for the months a refresh touched. A
-- change to a day table's columns must be made to its month table too.
CREATE TABLE IF NOT EXISTS rollup_ro_month LIKE rollup_ro_day;
CREATE TABLE IF NOT EXISTS rollup_ro_insurer_month LIKE rollup_ro_insurer_day;
