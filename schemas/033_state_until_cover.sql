-- derived tables: unchanged
-- 033_state_until_cover: the vehicle states that ended between a held month
-- end and a later day, read for the cohort KPIs of that day
-- (plugins/retention/cohort_changes.h) with their sale and first visit, come
-- from the until_on key alone: the key carries those columns too, so the
-- 72k states that ended in 20 days of the 200-store demo are read from it,
-- not looked up one by one in the table (130 ms). Only a key changes; run
-- again, it makes the same key.
ALTER TABLE rollup_vehicle_state DROP KEY IF EXISTS k_vehicle_state_until,
  ADD KEY k_vehicle_state_until (until_on, from_on, last_store_code, sold_on, sale_store_code, first_visit_on);
