-- 020_customers_phone: the customer's phone number (docs/import.md,
-- customers.phone): optional, digits, '+', '-' and spaces, at most 20
-- characters, checked by the importer (core/data/import_rows.c). Personal
-- data: who may see it whole is docs/security.md's rule.

ALTER TABLE customers ADD COLUMN IF NOT EXISTS phone VARCHAR(20) NULL;
