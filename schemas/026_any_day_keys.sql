-- Keys for a day that is not a held month end, answered from the nearer
-- held month end and what differs between the two days (plugins/retention,
-- plugins/receivables):
--   the vehicles' states by the day they end: those that ended between the
--   two days are one short range;
--   the payments of a store by day, with the invoice they pay: the invoices
--   paid between the two days are one short range per store, read from the
--   key alone.
ALTER TABLE rollup_vehicle_state ADD KEY IF NOT EXISTS k_vehicle_state_until (until_on, from_on, last_store_code);
ALTER TABLE payments ADD KEY IF NOT EXISTS k_payment_store_paid_invoice (store_code, paid_on, invoice_no);
