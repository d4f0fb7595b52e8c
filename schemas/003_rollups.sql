-- 003_rollups: the derived tables the KPI plugins read instead of scanning
-- the facts (docs/plugins.md "Queries"). Kept current by core/data/rollup.c: the
-- importer calls rollup_refresh() inside its transaction for the stores and
-- dates a file touched; `fourscore rollup --rebuild` rebuilds them all.
-- Every RO figure here follows docs/kpis.md: closed ROs only (closed_at set),
-- ro_type other than 'internal'; an RO's business date ("day") is the date
-- part of its closed_at. Empty optional numbers count as 0.

-- Per closed non-internal RO: its derived amounts (docs/kpis.md,
-- service.revenue and its parts), so per-customer and per-RO questions (credit limits,
-- follow-ups, appointments, surveys) need no scan of the lines.
CREATE TABLE rollup_ro (
  store_code         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_no              VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day                DATE NOT NULL,                         -- DATE(closed_at)
  closed_at          DATETIME NOT NULL,
  vin                CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_code      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_type            ENUM('first_service','maintenance','repair','bodywork','warranty') NOT NULL,
  payer              ENUM('customer','insurer','warranty','internal') NOT NULL,
  insurer_code       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  is_comeback        TINYINT(1) NOT NULL,                   -- comeback_of set
  revenue            DECIMAL(18,4) NOT NULL,                -- labour + parts + materials + accessories + other - discount
  cost               DECIMAL(18,4) NOT NULL,                -- parts + materials + accessories cost (qty*unit_cost)
  labour_revenue     DECIMAL(18,4) NOT NULL,
  sold_hours         DECIMAL(14,2) NOT NULL,
  sold_hours_clocked DECIMAL(14,2) NOT NULL,                -- sold_hours of the lines with clocked_hours set
  clocked_hours      DECIMAL(14,2) NOT NULL,                -- clocked_hours of those lines
  parts_revenue      DECIMAL(18,4) NOT NULL,                -- category part
  parts_cost         DECIMAL(18,4) NOT NULL,
  part_lines         INT UNSIGNED NOT NULL,                 -- lines of category part
  part_lines_from_stock INT UNSIGNED NOT NULL,              -- of which from_stock (empty = 1)
  material_revenue   DECIMAL(18,4) NOT NULL,                -- category material
  material_cost      DECIMAL(18,4) NOT NULL,
  accessory_revenue  DECIMAL(18,4) NOT NULL,                -- category accessory
  accessory_cost     DECIMAL(18,4) NOT NULL,
  other_amount       DECIMAL(18,4) NOT NULL,                -- other_amount (empty = 0)
  discount_amount    DECIMAL(18,4) NOT NULL,                -- discount_amount (empty = 0)
  PRIMARY KEY (store_code, ro_no),
  KEY k_rollup_ro_day (store_code, day),
  KEY k_rollup_ro_customer (store_code, customer_code, day),
  KEY k_rollup_ro_vin (vin, closed_at)
) ENGINE=InnoDB;

-- Per store and day: sums over the closed non-internal ROs closed that day
-- and over their lines.
CREATE TABLE rollup_ro_day (
  store_code              VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day                     DATE NOT NULL,                    -- DATE(closed_at)
  ro_count                INT UNSIGNED NOT NULL,            -- ROs
  comeback_count          INT UNSIGNED NOT NULL,            -- ROs with comeback_of set
  revenue                 DECIMAL(18,4) NOT NULL,           -- RO revenue: labour + parts + materials + accessories + other - discount
  labour_revenue          DECIMAL(18,4) NOT NULL,           -- sum ro_labour.amount
  sold_hours              DECIMAL(14,2) NOT NULL,           -- sum ro_labour.sold_hours
  sold_hours_clocked      DECIMAL(14,2) NOT NULL,           -- sum sold_hours over lines with clocked_hours set
  clocked_hours           DECIMAL(14,2) NOT NULL,           -- sum clocked_hours over lines with clocked_hours set
  parts_revenue           DECIMAL(18,4) NOT NULL,           -- sum qty*unit_price, category part
  parts_cost              DECIMAL(18,4) NOT NULL,           -- sum qty*unit_cost, category part
  part_lines              INT UNSIGNED NOT NULL,            -- ro_parts lines of category part
  part_lines_from_stock   INT UNSIGNED NOT NULL,            -- of which from_stock (empty from_stock = 1)
  material_revenue        DECIMAL(18,4) NOT NULL,           -- sum qty*unit_price, category material
  material_cost           DECIMAL(18,4) NOT NULL,           -- sum qty*unit_cost, category material
  accessory_revenue       DECIMAL(18,4) NOT NULL,           -- sum qty*unit_price, category accessory
  accessory_cost          DECIMAL(18,4) NOT NULL,           -- sum qty*unit_cost, category accessory
  other_amount            DECIMAL(18,4) NOT NULL,           -- sum other_amount
  discount_amount         DECIMAL(18,4) NOT NULL,           -- sum discount_amount
  bodywork_ro_count       INT UNSIGNED NOT NULL,            -- ROs of ro_type bodywork
  bodywork_revenue        DECIMAL(18,4) NOT NULL,           -- RO revenue of the bodywork ROs
  bodywork_material_cost  DECIMAL(18,4) NOT NULL,           -- material cost of the bodywork ROs
  insurer_revenue         DECIMAL(18,4) NOT NULL,           -- RO revenue of ROs with payer = insurer (by insurer: rollup_ro_insurer_day)
  PRIMARY KEY (store_code, day),
  KEY k_rollup_ro_day (day)
) ENGINE=InnoDB;

-- Per store, day and insurer: the ROs with payer = insurer, by their
-- insurer_code (insurance.accident_revenue by insurer).
CREATE TABLE rollup_ro_insurer_day (
  store_code      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day             DATE NOT NULL,                            -- DATE(closed_at)
  insurer_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ro_count        INT UNSIGNED NOT NULL,                    -- ROs with payer = insurer of this insurer
  revenue         DECIMAL(18,4) NOT NULL,                   -- their RO revenue
  PRIMARY KEY (store_code, day, insurer_code),
  KEY k_rollup_ro_insurer_day (day)
) ENGINE=InnoDB;

-- Per store and snapshot date: the totals of that parts_stock snapshot.
CREATE TABLE rollup_stock (
  store_code      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  snapshot_on     DATE NOT NULL,
  part_rows       INT UNSIGNED NOT NULL,                    -- rows (parts) in the snapshot
  stock_value     DECIMAL(20,4) NOT NULL,                   -- sum qty_on_hand * unit_cost
  PRIMARY KEY (store_code, snapshot_on),
  KEY k_rollup_stock_day (snapshot_on)
) ENGINE=InnoDB;

-- Per store, snapshot date and age: the stock value of the snapshot's parts
-- by their age in days = snapshot_on - COALESCE(last_issue_on, last_receipt_on),
-- so slow-moving and obsolete shares work for any day threshold setting:
-- value older than N days = SUM(stock_value) WHERE age_days > N.
-- A part never issued nor received has age_days = 1000000 (always older).
CREATE TABLE rollup_stock_age (
  store_code      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  snapshot_on     DATE NOT NULL,
  age_days        INT NOT NULL,                             -- days since last issue (else receipt); 1000000 = never
  stock_value     DECIMAL(20,4) NOT NULL,                   -- sum qty_on_hand * unit_cost of those parts
  PRIMARY KEY (store_code, snapshot_on, age_days)
) ENGINE=InnoDB;

-- Per vehicle and day: its visits (closed non-internal ROs at any store of
-- the group) closed that day, and the latest of them (by closed_at; a tie
-- goes to the smaller store_code). "Last visit on or before `to`" is the row
-- with the greatest visit_on <= `to` (PRIMARY KEY lookup); "a visit between
-- sold_on and sold_on + 6 months" is a range lookup.
CREATE TABLE rollup_vehicle_visit (
  vin             CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  visit_on        DATE NOT NULL,                            -- DATE(closed_at)
  visits          INT UNSIGNED NOT NULL,                    -- visits that day
  last_closed_at  DATETIME NOT NULL,                        -- closed_at of the day's latest visit
  last_store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, -- its store
  PRIMARY KEY (vin, visit_on),
  KEY k_rollup_visit_day (visit_on)
) ENGINE=InnoDB;
