-- 009_line_keys: repair order lines are keyed by what names them, (store,
-- RO, line), instead of a surrogate id. The lines of one RO then sit
-- together in the table, so the rollups and the importer's "lines the file
-- did not repeat" read them in one short range, and a line is written to one
-- index fewer. (Written so that applying it again changes nothing.)
ALTER TABLE ro_labour DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_labour,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, ro_no, line_no);
ALTER TABLE ro_parts DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_parts,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, ro_no, line_no);
