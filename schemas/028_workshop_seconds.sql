-- The time in the workshop (service.turnaround_hours) from the repair-order
-- rollups instead of repair_orders itself: per RO its seconds from
-- opened_at to closed_at, per store and day (month) their sum, so a period
-- of any length reads a few rows per store, as every other service sum does
-- (core/data/rollup.c). The columns start at 0; the derived tables are
-- rebuilt after this migration, which fills them.
ALTER TABLE rollup_ro ADD COLUMN IF NOT EXISTS workshop_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_ro_day ADD COLUMN IF NOT EXISTS workshop_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_ro_month ADD COLUMN IF NOT EXISTS workshop_seconds BIGINT NOT NULL DEFAULT 0;
