-- The budgets generation: row 2 of data_generation, bumped (with row 1) by
-- every import that writes the `targets` entity and by nothing else. The KPI
-- engine keeps what it read of the targets for the budgets generation it was
-- read at (core/engine/kpi_targets.c), so an import of repair orders or a
-- setting change, which bumps row 1 alone, does not make it read them again.
INSERT IGNORE INTO data_generation (id, generation) VALUES (2, 1);
