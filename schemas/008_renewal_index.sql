-- 008_renewal_index: insurance.renewal_rate reads the policies ending in a
-- period with their store, insurer, VIN and start; this key holds all of
-- them, so the period's policies are read from the index alone.
ALTER TABLE insurance_policies DROP INDEX k_policy_ends,
  ADD INDEX k_policy_ends (ends_on, store_code, insurer_code, vin, starts_on);
