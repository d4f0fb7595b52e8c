-- 010_cohort_index: the cohort KPIs of retention (churn by vehicle age,
-- first-service rate) read the vehicles whose latest sale falls in a window,
-- as of the period end; this key holds every column they need, so they read
-- the window's rows from it instead of every vehicle's state.
CREATE INDEX IF NOT EXISTS k_vehicle_state_sold
  ON rollup_vehicle_state (sold_on, until_on, from_on, sale_store_code, first_visit_on);
