-- rollup_retention_first (017) now holds, at each month end, what was known
-- at it: a first visit after the month end is not yet a first service there
-- (served_after 65535), so that a month end's rows depend on the facts up to
-- it alone and an import redoes only the month ends from its earliest date
-- on (core/data/rollup_month_end.c). The first-service rate reads only
-- sales at least F months old, whose first service within F months lies
-- before the month end, so no answer changes. The rows already held are
-- recomputed here from the vehicles' states, for the month ends held.
DELETE FROM rollup_retention_first;
INSERT INTO rollup_retention_first (day, sold_ago, store_code, served_after, vehicles)
SELECT m.day,
       PERIOD_DIFF(EXTRACT(YEAR_MONTH FROM m.day), EXTRACT(YEAR_MONTH FROM v.sold_on))
         - (v.sold_on > m.day - INTERVAL PERIOD_DIFF(EXTRACT(YEAR_MONTH FROM m.day), EXTRACT(YEAR_MONTH FROM v.sold_on)) MONTH),
       v.sale_store_code,
       IF(v.first_visit_on IS NULL OR v.first_visit_on > m.day, 65535,
          LEAST(PERIOD_DIFF(EXTRACT(YEAR_MONTH FROM v.first_visit_on), EXTRACT(YEAR_MONTH FROM v.sold_on))
                + (v.first_visit_on > v.sold_on
                   + INTERVAL PERIOD_DIFF(EXTRACT(YEAR_MONTH FROM v.first_visit_on), EXTRACT(YEAR_MONTH FROM v.sold_on)) MONTH),
                65534)),
       COUNT(*)
  FROM (SELECT DISTINCT day FROM rollup_retention_last) m
  JOIN rollup_vehicle_state v ON v.from_on <= m.day AND v.until_on > m.day
 WHERE v.sold_on IS NOT NULL
 GROUP BY 1, 2, 3, 4;
