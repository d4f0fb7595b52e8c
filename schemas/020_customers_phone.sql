-- 020_customers_phone: the customer's phone number (docs/import.md,
-- customers.phone: optional; digits, '+', '-' and spaces, at most 20). It
-- is personal data: the lists show it whole only to admins and to the store
-- manager of the customer's store, masked to everyone else (docs/security.md).
ALTER TABLE customers ADD COLUMN IF NOT EXISTS phone VARCHAR(20) NULL;
