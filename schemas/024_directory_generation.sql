-- The directory generation: row 3 of data_generation, bumped (with row 1) by
-- every import that writes the regions, stores or insurers entities and by
-- nothing else. The KPI engine's snapshot of a data generation holds the
-- directory (codes, names, regions) and the settings; when the data moves
-- and the directory has not, the new snapshot keeps the old one's directory
-- and reads only the settings (core/engine/kpi_cache.c).
INSERT IGNORE INTO data_generation (id, generation) VALUES (3, 1);
