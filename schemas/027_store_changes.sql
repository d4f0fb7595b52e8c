-- derived tables: unchanged
-- The stores each data generation changed. An import that can change only
-- some stores' KPIs writes, with its bump of the data generation (row 1),
-- one row per such store: the stores it wrote rows of and, for a file that
-- names vehicles, every store credited with one of them (a repair order,
-- sale or policy of the VIN there). A generation with no row here (a
-- setting, a rebuild, a bulk load, an import of the directory) changed
-- everything. The KPI engine reads the rows between the generation it holds
-- and the new one, and recomputes only those stores' components
-- (core/engine/kpi_cache.c); rows far behind the current generation are
-- deleted by the imports that write new ones.
CREATE TABLE IF NOT EXISTS data_change_stores (
  generation   BIGINT UNSIGNED NOT NULL,
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (generation, store_code)
) ENGINE=InnoDB;
