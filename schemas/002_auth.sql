-- 002_auth: users, their regions, sessions, API tokens, login failures and
-- the audit log (docs/security.md). Secrets are never stored: a session id
-- and a token secret are kept only as their SHA-256-class hash
-- (crypto_generichash, 32 bytes, hex), a password only as its Argon2id
-- string (crypto_pwhash_str). Times are UTC, from the database's clock, so
-- that several server instances agree on expiry.

CREATE TABLE IF NOT EXISTS users (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  role           ENUM('admin','executive','regional_manager','store_manager') NOT NULL,
  password_hash  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  store_code     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at     DATETIME(6) NOT NULL,
  updated_at     DATETIME(6) NOT NULL,
  UNIQUE KEY uk_username (username),
  KEY k_user_role (role)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A regional manager's regions (one or more).
CREATE TABLE IF NOT EXISTS user_regions (
  user_id      BIGINT UNSIGNED NOT NULL,
  region_code  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (user_id, region_code),
  KEY k_user_region (region_code),
  CONSTRAINT fk_user_region_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Browser sessions: the hash of the random session id the cookie carries.
CREATE TABLE IF NOT EXISTS sessions (
  id_hash     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id     BIGINT UNSIGNED NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  last_seen   DATETIME(6) NOT NULL,
  ip          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  KEY k_session_user (user_id),
  KEY k_session_seen (last_seen),
  CONSTRAINT fk_session_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- API tokens: uploader (bound to one store, or to every store) and metrics.
CREATE TABLE IF NOT EXISTS api_tokens (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind          ENUM('uploader','metrics') NOT NULL,
  store_code    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  all_stores    TINYINT(1) NOT NULL DEFAULT 0,
  secret_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_by    VARCHAR(72) NOT NULL,
  created_at    DATETIME(6) NOT NULL,
  last_used_at  DATETIME(6) NULL,
  UNIQUE KEY uk_token_name (name),
  UNIQUE KEY uk_token_secret (secret_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Failed logins of the last window, per submitted user name and per client
-- address: the rate limit lives in the database so that every instance
-- behind a load balancer counts the same failures, and a restart forgets none.
CREATE TABLE IF NOT EXISTS login_failures (
  id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username  VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ip        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  at        DATETIME(6) NOT NULL,
  KEY k_failure_user (username, at),
  KEY k_failure_ip (ip, at),
  KEY k_failure_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who did what: logins, imports, scorecard saves and deletes, user, token
-- and setting changes. actor_kind: user, token or cli (the command line).
CREATE TABLE IF NOT EXISTS audit_log (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at          DATETIME(6) NOT NULL,
  actor       VARCHAR(72) NOT NULL,
  actor_kind  ENUM('user','token','cli','anonymous') NOT NULL,
  action      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  target      VARCHAR(255) NULL,
  detail      TEXT NULL,
  KEY k_audit_at (at),
  KEY k_audit_action (action, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
