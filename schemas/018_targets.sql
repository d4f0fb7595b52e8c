-- 018_targets: per-store monthly budgets (docs/import.md, entity `targets`):
-- a value per store, month and budgetable KPI (one the catalogue marks
-- "budget": true). Written by the importer (core/data/entities.c) and read by
-- the KPI engine (core/engine/kpi_targets.c), which pro-rates each month's
-- value by the days of the month inside a query's period. The index on
-- (kpi, month) serves that read: one KPI over a range of months.
CREATE TABLE targets (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  month       CHAR(7) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kpi         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  value       DECIMAL(14,2) NOT NULL,
  UNIQUE KEY uk_targets (store_code, month, kpi),
  KEY ix_targets_kpi_month (kpi, month, store_code),
  CONSTRAINT fk_targets_store FOREIGN KEY (store_code) REFERENCES stores (store_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
