-- 004_settings: the KPI settings a group may change (docs/kpis.md "Settings a
-- group may change"): definition parameters such as retention.lost_after_months
-- and KPI targets ("<kpi id>.target", or "<kpi id>.target_low" and
-- "<kpi id>.target_high" for a band). Only changed values are stored; a
-- missing row means the default of the spec. Every change also bumps
-- data_generation (001_core.sql) so every instance's KPI cache drops.
CREATE TABLE kpi_settings (
  name        VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  value       DOUBLE NOT NULL,
  updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_by  VARCHAR(72) NOT NULL                  -- user name, or "cli"
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
