-- 007_kpi_indexes: indexes for KPI queries that filter the whole group by a
-- date alone (csi.score and csi.responses read csi_surveys by surveyed_on;
-- new-policy matching reads insurance_policies by sold_on).
CREATE INDEX IF NOT EXISTS k_csi_day ON csi_surveys (surveyed_on, store_code);
CREATE INDEX IF NOT EXISTS k_policy_sold ON insurance_policies (sold_on, kind);
