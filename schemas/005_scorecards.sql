-- 005_scorecards: Lua scorecards (docs/api.md, "Lua scorecards") and their
-- versions. The current text is the version numbered current_version; the
-- last 20 versions of each scorecard are kept (core/script/scorecard_store.c prunes).
-- Shipped scorecards (lua/scorecards/*.lua) are owned by admin and their
-- versions marked shipped = 1, so that an upgrade replaces an untouched
-- shipped text but never a version a person saved.

CREATE TABLE IF NOT EXISTS scorecards (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name             VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  title            VARCHAR(200) NOT NULL,
  owner            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  current_version  INT UNSIGNED NOT NULL,
  updated_at       DATETIME(6) NOT NULL,
  UNIQUE KEY uk_scorecard_name (name),
  KEY k_scorecard_owner (owner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS scorecard_versions (
  scorecard_id  BIGINT UNSIGNED NOT NULL,
  version       INT UNSIGNED NOT NULL,
  source        MEDIUMTEXT NOT NULL,
  saved_at      DATETIME(6) NOT NULL,
  saved_by      VARCHAR(72) NOT NULL,
  shipped       TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (scorecard_id, version),
  CONSTRAINT fk_scorecard_version FOREIGN KEY (scorecard_id) REFERENCES scorecards (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
