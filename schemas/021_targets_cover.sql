-- 021_targets_cover: the read of targets=1 (core/engine/kpi_targets.c: the
-- answer's KPI ids over the months of its period) answered from the index
-- alone, without a look-up of each row: the key of 018 with the value.

ALTER TABLE targets DROP KEY IF EXISTS ix_targets_kpi_month,
  ADD KEY IF NOT EXISTS ix_targets_kpi_month_value (kpi, month, store_code, value);
