-- Revocable sessions, sign-in throttling, encrypted signing keys, case-insensitive logins.

-- Every token carries the epoch of its user at issue time. Bumping it (logout, password
-- change or reset, deactivation, app-role change) invalidates every token issued before.
ALTER TABLE users ADD session_epoch BIGINT NOT NULL CONSTRAINT df_users_session_epoch DEFAULT 0;

-- Login names are unique regardless of case, whatever the database collation.
ALTER TABLE users ADD login_name_lower AS LOWER(login_name) PERSISTED;
CREATE UNIQUE INDEX ux_users_login_lower ON users (login_name_lower);

-- Failed sign-ins per login name and per client address, shared by every process.
CREATE TABLE login_throttle (
    throttle_key NVARCHAR(400) NOT NULL PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start_utc DATETIMEOFFSET NOT NULL,
    locked_until_utc DATETIMEOFFSET NULL,
    refused BIGINT NOT NULL DEFAULT 0,
    updated_utc DATETIMEOFFSET NOT NULL
);
CREATE INDEX ix_login_throttle_updated ON login_throttle (updated_utc);

-- Signing keys are now stored encrypted under a key from the environment (or a key file).
-- The plaintext secrets of earlier versions are dropped (tokens signed with them end).
DELETE FROM signing_keys;
ALTER TABLE signing_keys ADD retired_utc DATETIMEOFFSET NULL;
