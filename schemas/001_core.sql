-- 001_core: the tables of every entity of docs/import.md.
-- Natural keys are unique keys; money is DECIMAL(14,2), hours and quantities
-- DECIMAL(12,2); codes are ASCII with a binary (case-sensitive) collation.
-- Foreign keys stand where the spec names a parent; the importer checks
-- parents itself too, so a sharded layout without foreign keys loses nothing.

CREATE TABLE regions (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  region_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name         VARCHAR(200) NOT NULL,
  UNIQUE KEY uk_region (region_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE stores (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name         VARCHAR(200) NOT NULL,
  brand        VARCHAR(100) NOT NULL,
  region_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  city         VARCHAR(100) NULL,
  opened_on    DATE NULL,
  UNIQUE KEY uk_store (store_code),
  KEY k_region (region_code),
  CONSTRAINT fk_store_region FOREIGN KEY (region_code) REFERENCES regions (region_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE insurers (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  insurer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name          VARCHAR(200) NOT NULL,
  UNIQUE KEY uk_insurer (insurer_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE staff (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  staff_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name         VARCHAR(200) NOT NULL,
  role         ENUM('technician','advisor','parts','other') NOT NULL,
  hired_on     DATE NULL,
  left_on      DATE NULL,
  UNIQUE KEY uk_staff (store_code, staff_code),
  CONSTRAINT fk_staff_store FOREIGN KEY (store_code) REFERENCES stores (store_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE customers (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  type           ENUM('individual','fleet','government','insurer','other') NOT NULL,
  name           VARCHAR(200) NULL,
  UNIQUE KEY uk_customer (store_code, customer_code),
  CONSTRAINT fk_customer_store FOREIGN KEY (store_code) REFERENCES stores (store_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE vehicle_sales (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  deal_no        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  vin            CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  sold_on        DATE NOT NULL,
  customer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  model          VARCHAR(100) NULL,
  sale_amount    DECIMAL(14,2) NOT NULL,
  referral       TINYINT(1) NULL,
  UNIQUE KEY uk_sale (store_code, deal_no),
  KEY k_sale_vin (vin, sold_on),
  KEY k_sale_store_day (store_code, sold_on),
  KEY k_sale_day (sold_on),
  CONSTRAINT fk_sale_customer FOREIGN KEY (store_code, customer_code) REFERENCES customers (store_code, customer_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE repair_orders (
  id               INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_no            VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  vin              CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  advisor_code     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ro_type          ENUM('first_service','maintenance','repair','bodywork','warranty','internal') NOT NULL,
  payer            ENUM('customer','insurer','warranty','internal') NOT NULL,
  insurer_code     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  opened_at        DATETIME NOT NULL,
  closed_at        DATETIME NULL,
  mileage_km       DECIMAL(12,2) NULL,
  other_amount     DECIMAL(14,2) NULL,
  discount_amount  DECIMAL(14,2) NULL,
  comeback_of      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  UNIQUE KEY uk_ro (store_code, ro_no),
  KEY k_ro_store_closed (store_code, closed_at),
  KEY k_ro_vin_closed (vin, closed_at),
  KEY k_ro_closed (closed_at),
  KEY k_ro_customer (store_code, customer_code),
  CONSTRAINT fk_ro_customer FOREIGN KEY (store_code, customer_code) REFERENCES customers (store_code, customer_code),
  CONSTRAINT fk_ro_advisor FOREIGN KEY (store_code, advisor_code) REFERENCES staff (store_code, staff_code),
  CONSTRAINT fk_ro_insurer FOREIGN KEY (insurer_code) REFERENCES insurers (insurer_code),
  CONSTRAINT fk_ro_comeback FOREIGN KEY (store_code, comeback_of) REFERENCES repair_orders (store_code, ro_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE ro_labour (
  id               INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_no            VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  line_no          INT UNSIGNED NOT NULL,
  op_code          VARCHAR(32) NULL,
  technician_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  sold_hours       DECIMAL(12,2) NOT NULL,
  clocked_hours    DECIMAL(12,2) NULL,
  amount           DECIMAL(14,2) NOT NULL,
  UNIQUE KEY uk_labour (store_code, ro_no, line_no),
  CONSTRAINT fk_labour_ro FOREIGN KEY (store_code, ro_no) REFERENCES repair_orders (store_code, ro_no),
  CONSTRAINT fk_labour_tech FOREIGN KEY (store_code, technician_code) REFERENCES staff (store_code, staff_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE ro_parts (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_no        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  line_no      INT UNSIGNED NOT NULL,
  part_no      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  category     ENUM('part','material','accessory') NOT NULL,
  qty          DECIMAL(12,2) NOT NULL,
  unit_price   DECIMAL(14,2) NOT NULL,
  unit_cost    DECIMAL(14,2) NOT NULL,
  from_stock   TINYINT(1) NULL,
  UNIQUE KEY uk_parts (store_code, ro_no, line_no),
  CONSTRAINT fk_parts_ro FOREIGN KEY (store_code, ro_no) REFERENCES repair_orders (store_code, ro_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE parts_stock (
  id               INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  snapshot_on      DATE NOT NULL,
  part_no          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  qty_on_hand      DECIMAL(12,2) NOT NULL,
  unit_cost        DECIMAL(14,2) NOT NULL,
  last_issue_on    DATE NULL,
  last_receipt_on  DATE NULL,
  UNIQUE KEY uk_stock (store_code, snapshot_on, part_no),
  CONSTRAINT fk_stock_store FOREIGN KEY (store_code) REFERENCES stores (store_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE insurance_policies (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  policy_no     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  vin           CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  insurer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind          ENUM('new','renewal') NOT NULL,
  sold_on       DATE NOT NULL,
  starts_on     DATE NOT NULL,
  ends_on       DATE NOT NULL,
  premium       DECIMAL(14,2) NOT NULL,
  commission    DECIMAL(14,2) NULL,
  UNIQUE KEY uk_policy (store_code, policy_no),
  KEY k_policy_vin (vin, starts_on),
  KEY k_policy_store_sold (store_code, sold_on),
  KEY k_policy_ends (ends_on),
  CONSTRAINT fk_policy_store FOREIGN KEY (store_code) REFERENCES stores (store_code),
  CONSTRAINT fk_policy_insurer FOREIGN KEY (insurer_code) REFERENCES insurers (insurer_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invoices (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  invoice_no     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  issued_on      DATE NOT NULL,
  due_on         DATE NULL,
  amount         DECIMAL(14,2) NOT NULL,
  ro_no          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  deal_no        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  UNIQUE KEY uk_invoice (store_code, invoice_no),
  KEY k_invoice_store_issued (store_code, issued_on),
  KEY k_invoice_customer (store_code, customer_code),
  CONSTRAINT fk_invoice_customer FOREIGN KEY (store_code, customer_code) REFERENCES customers (store_code, customer_code),
  CONSTRAINT fk_invoice_ro FOREIGN KEY (store_code, ro_no) REFERENCES repair_orders (store_code, ro_no),
  CONSTRAINT fk_invoice_deal FOREIGN KEY (store_code, deal_no) REFERENCES vehicle_sales (store_code, deal_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payments (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payment_no   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  invoice_no   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  paid_on      DATE NOT NULL,
  amount       DECIMAL(14,2) NOT NULL,
  UNIQUE KEY uk_payment (store_code, payment_no),
  KEY k_payment_invoice (store_code, invoice_no, paid_on),
  CONSTRAINT fk_payment_invoice FOREIGN KEY (store_code, invoice_no) REFERENCES invoices (store_code, invoice_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE store_financials (
  id                          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code                  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  month                       CHAR(7) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  aftersales_personnel_cost   DECIMAL(14,2) NOT NULL,
  fixed_expenses              DECIMAL(14,2) NOT NULL,
  UNIQUE KEY uk_financials (store_code, month),
  CONSTRAINT fk_financials_store FOREIGN KEY (store_code) REFERENCES stores (store_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE follow_up_calls (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_no        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  called_at    DATETIME NOT NULL,
  reached      TINYINT(1) NOT NULL,
  complaint    TINYINT(1) NULL,
  UNIQUE KEY uk_followup (store_code, ro_no),
  CONSTRAINT fk_followup_ro FOREIGN KEY (store_code, ro_no) REFERENCES repair_orders (store_code, ro_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE csi_surveys (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_no           VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  surveyed_on     DATE NOT NULL,
  reliability     DECIMAL(4,2) NOT NULL,
  responsiveness  DECIMAL(4,2) NOT NULL,
  assurance       DECIMAL(4,2) NOT NULL,
  empathy         DECIMAL(4,2) NOT NULL,
  tangibles       DECIMAL(4,2) NOT NULL,
  UNIQUE KEY uk_csi (store_code, ro_no),
  KEY k_csi_store_day (store_code, surveyed_on),
  CONSTRAINT fk_csi_ro FOREIGN KEY (store_code, ro_no) REFERENCES repair_orders (store_code, ro_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE appointments (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_code      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  appt_no         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  vin             CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  booked_at       DATETIME NOT NULL,
  appointment_at  DATETIME NOT NULL,
  showed          TINYINT(1) NULL,
  ro_no           VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  UNIQUE KEY uk_appt (store_code, appt_no),
  KEY k_appt_ro (store_code, ro_no),
  CONSTRAINT fk_appt_store FOREIGN KEY (store_code) REFERENCES stores (store_code),
  CONSTRAINT fk_appt_ro FOREIGN KEY (store_code, ro_no) REFERENCES repair_orders (store_code, ro_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The data generation: bumped by every import and setting change; every
-- instance's KPI cache is valid only for the generation it was filled at.
CREATE TABLE data_generation (
  id          TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  generation  BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
INSERT INTO data_generation (id, generation) VALUES (1, 1);
