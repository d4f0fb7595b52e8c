-- 022_alerts: alert rules, the alerts they open and close, the deliveries of
-- their notifications, the scheduled reports (subscriptions) and the record
-- of scheduled work done (docs/api.md "Alert rules and alerts", "Scheduled
-- reports"). core/engine/alerts*.c and core/engine/reports.c read and write
-- these tables.
--
-- Exactly once with several instances on one database:
--  * one open alert per (rule, store): `open_flag` is 1 while the alert is
--    open and NULL once closed, so the unique key lets any number of closed
--    alerts stand beside at most one open one; the instance whose INSERT
--    lands opens it, the other finds it open;
--  * one notification per (alert, event, target): the delivery row is
--    inserted by the instance that opened (or closed) the alert, in the same
--    transaction, and a sender claims it (pending -> sending) with one UPDATE
--    before it sends;
--  * scheduled work (the daily evaluation, each report) runs under the
--    MariaDB named lock `fourscore.schedule` (released when the holder's
--    connection ends, so when its instance dies) and leaves a row in
--    schedule_runs when done, so the next instance to hold the lock skips it.

CREATE TABLE IF NOT EXISTS alert_rules (
  name        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  owner       VARCHAR(64) NOT NULL,             -- the user name of the owner
  spec        LONGTEXT NOT NULL,                -- the rule as JSON, as the API answers it
  enabled     TINYINT NOT NULL DEFAULT 1,
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL,
  KEY k_alert_rules_owner (owner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS alerts (
  id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rule_name   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  store_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kpi         VARCHAR(128) NULL,                -- null for a data_missing rule
  value       DOUBLE NULL,
  threshold   DOUBLE NULL,
  win         VARCHAR(16) NULL,                 -- the rule's window; null for data_missing
  from_day    DATE NULL,
  to_day      DATE NULL,
  opened_at   DATETIME NOT NULL,                -- FOURSCORE_TZ local time
  closed_at   DATETIME NULL,
  open_flag   TINYINT NULL DEFAULT 1,           -- 1 while open, NULL once closed
  UNIQUE KEY u_alert_open (rule_name, store_code, open_flag),
  KEY k_alert_store (store_code, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS alert_deliveries (
  id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  alert_id    BIGINT NOT NULL,
  event       VARCHAR(8) CHARACTER SET ascii NOT NULL,     -- open | close
  target      VARCHAR(700) COLLATE utf8mb4_bin NOT NULL,           -- the webhook URL or the email address
  kind        VARCHAR(8) CHARACTER SET ascii NOT NULL,     -- webhook | email
  format      VARCHAR(16) CHARACTER SET ascii NULL,        -- json | wecom | dingtalk (webhooks)
  status      VARCHAR(8) CHARACTER SET ascii NOT NULL DEFAULT 'pending', -- pending | sending | sent | failed
  attempts    INT NOT NULL DEFAULT 0,
  last_error  VARCHAR(500) NULL,
  created_at  DATETIME NOT NULL,
  claimed_at  DATETIME NULL,
  UNIQUE KEY u_delivery (alert_id, event, target),
  KEY k_delivery_status (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS subscriptions (
  owner       VARCHAR(64) NOT NULL,
  name        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  report      VARCHAR(16) CHARACTER SET ascii NOT NULL,    -- daily | monthly
  recipients  LONGTEXT NOT NULL,                -- JSON array of addresses
  send_time   CHAR(5) CHARACTER SET ascii NOT NULL,        -- HH:MM, FOURSCORE_TZ
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL,
  PRIMARY KEY (owner, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS schedule_runs (
  job         VARCHAR(200) NOT NULL,            -- "alerts.daily", "report:OWNER/NAME"
  run_day     DATE NOT NULL,                    -- the FOURSCORE_TZ day it ran for
  done_at     DATETIME NOT NULL,
  PRIMARY KEY (job, run_day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
