-- derived tables: unchanged
-- 034_ro_day_key: the lists of a period's comebacks and complaints
-- (plugins/service: service.comebacks, service.complaints) read rollup_ro by
-- day for the whole group, which had no key for a day without a store (the
-- group's first page of a month read all 4.2M rows of the 200-store demo,
-- 1.3 s). This key holds the day and the two counts the lists select on, so
-- a month's range is read from it and only the rows they show are looked up.
-- Only a key is added; run again, it is there.
ALTER TABLE rollup_ro ADD KEY IF NOT EXISTS k_rollup_ro_by_day (day, is_comeback, complaint_calls);
