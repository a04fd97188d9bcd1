-- Revocable sessions, sign-in throttling, encrypted signing keys, case-insensitive logins.

-- Every token carries the epoch of its user at issue time; bumping it (logout, password
-- change or reset, deactivation, app-role change) invalidates every token issued before.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- Login names are unique regardless of case (sign-in matches case-insensitively too).
CREATE UNIQUE INDEX ux_users_login_lower ON users (LOWER(login_name));

-- Failed sign-ins per login name and per client address, shared by every process.
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start_utc TEXT NOT NULL,
    locked_until_utc TEXT NULL,
    refused INTEGER NOT NULL DEFAULT 0,
    updated_utc TEXT NOT NULL
);
CREATE INDEX ix_login_throttle_updated ON login_throttle (updated_utc);

-- Signing keys are now stored encrypted under a key from the environment (or a key file);
-- the plaintext secrets of earlier versions are dropped (tokens signed with them end).
DELETE FROM signing_keys;
ALTER TABLE signing_keys ADD COLUMN retired_utc TEXT NULL;
