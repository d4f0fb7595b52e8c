-- The five SERVQUAL dimensions of the surveys (csi.reliability,
-- csi.responsiveness, csi.assurance, csi.empathy, csi.tangibles) summed per
-- store and day (month) beside the weighted score, so a period of any length
-- reads a few rows per store instead of every survey of the period, as
-- csi.score does (core/data/rollup.c). The columns start at 0; the derived
-- tables are rebuilt after this migration, which fills them.
ALTER TABLE rollup_csi_day ADD COLUMN IF NOT EXISTS reliability_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS responsiveness_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS assurance_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS empathy_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS tangibles_sum DECIMAL(20,4) NOT NULL DEFAULT 0;
ALTER TABLE rollup_csi_month ADD COLUMN IF NOT EXISTS reliability_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS responsiveness_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS assurance_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS empathy_sum DECIMAL(20,4) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS tangibles_sum DECIMAL(20,4) NOT NULL DEFAULT 0;
