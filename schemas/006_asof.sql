-- 006_asof: the derived tables of the as-of KPIs (docs/kpis.md "retention"
-- and "receivables", both taken as of the period end `to`), so that a KPI as
-- of any day reads one short range instead of every vehicle's history or
-- every invoice with its payments. Kept current by core/data/rollup_asof.c, called
-- from core/data/rollup.c's refresh and rebuild. They start empty here:
-- `fourscore rollup --rebuild` fills them on a database that already holds
-- data (a fresh one fills them as files are imported).

-- Per vehicle: its retention state between two of its events. An event is a
-- day with a visit (rollup_ro: a closed non-internal RO at any store) or a
-- sale (vehicle_sales) of the VIN. From from_on (an event day) until the day
-- before until_on (its next event day), the vehicle's last visit or sale is
-- from_on, at last_store_code (that day's latest visit by closed_at, a tie to
-- the smaller store_code; the selling store when that day has a sale and no
-- visit), and its latest sale is sold_on (sale_store_code: the smaller
-- store_code of that day's sales). The state as of `to` is the one row per
-- VIN with from_on <= `to` < until_on.
--
-- span_class (both tables) bounds how long a row's interval lasts: k when it
-- lasts at most 2^k days (k = 0..16), 99 when it has no end (or a longer
-- one). The rows whose interval holds `to` then lie in one short range of
-- the primary key per class: class k, start after `to` - 2^k days. That
-- reads about as many rows as the answer has, whatever `to` is.
CREATE TABLE rollup_vehicle_state (
  vin             CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  from_on         DATE NOT NULL,                            -- an event day: the last visit or sale from then on
  until_on        DATE NOT NULL,                            -- the next event day; 9999-12-31 if none
  last_store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  sold_on         DATE NULL,                                -- latest sale on or before from_on (NULL: none)
  sale_store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  first_visit_on  DATE NULL,                                -- first visit on or after sold_on, at any later time
  span_class      TINYINT UNSIGNED NOT NULL,                -- until_on - from_on <= 2^span_class days; 99: no bound
  PRIMARY KEY (span_class, from_on, vin),
  KEY k_vehicle_state_vin (vin, from_on)
) ENGINE=InnoDB;

-- Per invoice: the day from which it is never open again, so the invoices
-- open as of `to` are those with issued_on <= `to` < settled_on. settled_on = the
-- day of its last payment when its payments cover its amount (its issue day
-- if it has none and an amount <= 0), 9999-12-31 while they do not. On and
-- after settled_on every payment is counted and the open amount is <= 0; the
-- open amount itself is always computed from payments (paid_on <= `to`).
CREATE TABLE rollup_invoice_open (
  store_code      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  invoice_no      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_code   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  issued_on       DATE NOT NULL,
  settled_on      DATE NOT NULL,                            -- never open on or after this day
  amount          DECIMAL(14,2) NOT NULL,
  span_class      TINYINT UNSIGNED NOT NULL,                -- settled_on - issued_on <= 2^span_class days; 99: no bound
  PRIMARY KEY (span_class, issued_on, store_code, invoice_no),
  UNIQUE KEY uk_invoice_open (store_code, invoice_no),
  KEY k_invoice_open_issued (issued_on, store_code, amount)  -- amounts invoiced in a period
) ENGINE=InnoDB;
