-- 012_keys: every fact table is keyed by what names it in the import
-- format (docs/import.md, the key column) instead of a surrogate id, as 009 did for
-- the RO lines. A row is then written to one index fewer, with no
-- AUTO_INCREMENT lock, so two imports of different stores write the same
-- table side by side; and a store's rows sit together. The foreign keys that
-- named the old unique keys now use the primary keys. (Written so that
-- applying it again changes nothing.)
ALTER TABLE staff DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_staff,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, staff_code);
ALTER TABLE customers DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_customer,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, customer_code);
ALTER TABLE vehicle_sales DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_sale,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, deal_no);
ALTER TABLE repair_orders DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_ro,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, ro_no);
ALTER TABLE parts_stock DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_stock,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, snapshot_on, part_no);
ALTER TABLE insurance_policies DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_policy,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, policy_no);
ALTER TABLE invoices DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_invoice,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, invoice_no);
ALTER TABLE payments DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_payment,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, payment_no);
ALTER TABLE store_financials DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_financials,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, month);
ALTER TABLE follow_up_calls DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_followup,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, ro_no);
ALTER TABLE csi_surveys DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_csi,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, ro_no);
ALTER TABLE appointments DROP COLUMN IF EXISTS id, DROP INDEX IF EXISTS uk_appt,
  DROP PRIMARY KEY, ADD PRIMARY KEY (store_code, appt_no);
-- The vehicle states are built from rollup_vehicle_visit now, so nothing
-- reads rollup_ro by VIN: its key by VIN only cost every rebuild a write.
DROP INDEX IF EXISTS k_rollup_ro_vin ON rollup_ro;
