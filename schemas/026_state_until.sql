-- The vehicles' states by the day they end: a retention band as of a day
-- that is not a held month end is answered from the nearer held month end
-- and the states that differ between the two days (plugins/retention), and
-- those that ended between them are one short range of this key.
ALTER TABLE rollup_vehicle_state ADD KEY IF NOT EXISTS k_vehicle_state_until (until_on, from_on, last_store_code);
