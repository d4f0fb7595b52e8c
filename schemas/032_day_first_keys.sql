-- derived tables: unchanged
-- 032_day_first_keys: the per store and day (month) sums are read for every
-- store at once over a range of days (a KPI is computed for the whole group
-- and kept: plugins/kpi_common.h KC_SQL_DAYS), so they are stored by day
-- first: a month to date at 200 stores is one range of the primary key
-- instead of 4000 lookups from the day key into it. The refreshes delete and
-- write one store's days at a time, through the (store_code, day) key that
-- takes the day key's place. Only keys change: no derived row moves (run
-- again, the same keys).
ALTER TABLE rollup_ro_day DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_ro_day, ADD KEY IF NOT EXISTS k_rollup_ro_day_store (store_code, day);
ALTER TABLE rollup_ro_month DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_ro_day, ADD KEY IF NOT EXISTS k_rollup_ro_month_store (store_code, day);
ALTER TABLE rollup_ro_insurer_day DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code, insurer_code),
  DROP KEY IF EXISTS k_rollup_ro_insurer_day, ADD KEY IF NOT EXISTS k_rollup_ro_insurer_day_store (store_code, day);
ALTER TABLE rollup_ro_insurer_month DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code, insurer_code),
  DROP KEY IF EXISTS k_rollup_ro_insurer_day, ADD KEY IF NOT EXISTS k_rollup_ro_insurer_month_store (store_code, day);
ALTER TABLE rollup_ro_followup_day DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code, lag_days),
  DROP KEY IF EXISTS k_rollup_followup_day, ADD KEY IF NOT EXISTS k_rollup_followup_day_store (store_code, day);
ALTER TABLE rollup_ro_followup_month DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code, lag_days),
  DROP KEY IF EXISTS k_rollup_followup_day, ADD KEY IF NOT EXISTS k_rollup_followup_month_store (store_code, day);
ALTER TABLE rollup_csi_day DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_csi_day, ADD KEY IF NOT EXISTS k_rollup_csi_day_store (store_code, day);
ALTER TABLE rollup_csi_month DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_csi_day, ADD KEY IF NOT EXISTS k_rollup_csi_month_store (store_code, day);
ALTER TABLE rollup_premium_day DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code, insurer_code, kind),
  DROP KEY IF EXISTS k_rollup_premium_day, ADD KEY IF NOT EXISTS k_rollup_premium_day_store (store_code, day);
ALTER TABLE rollup_premium_month DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code, insurer_code, kind),
  DROP KEY IF EXISTS k_rollup_premium_day, ADD KEY IF NOT EXISTS k_rollup_premium_month_store (store_code, day);
ALTER TABLE rollup_invoice_day DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_invoice_day, ADD KEY IF NOT EXISTS k_rollup_invoice_day_store (store_code, day);
ALTER TABLE rollup_invoice_month DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_invoice_day, ADD KEY IF NOT EXISTS k_rollup_invoice_month_store (store_code, day);
ALTER TABLE rollup_sales_day DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_sales_day, ADD KEY IF NOT EXISTS k_rollup_sales_day_store (store_code, day);
ALTER TABLE rollup_sales_month DROP PRIMARY KEY, ADD PRIMARY KEY (day, store_code),
  DROP KEY IF EXISTS k_rollup_sales_day, ADD KEY IF NOT EXISTS k_rollup_sales_month_store (store_code, day);
