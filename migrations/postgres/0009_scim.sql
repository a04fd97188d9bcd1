-- SCIM 2.0 (RFC 7643/7644): the identity provider's bearer tokens (only a SHA-256 of each is
-- kept), the enterprise extension's employee number, and a mark for users and teams the
-- identity provider deleted (they stay, inactive, for history, and SCIM answers 404 for them).
-- Teams learn where they come from, like users (0006_identity).

CREATE TABLE scim_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_utc TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    last_used_utc TIMESTAMPTZ NULL,
    revoked_utc TIMESTAMPTZ NULL,
    revoked_by TEXT NULL
);

ALTER TABLE users ADD COLUMN employee_number TEXT NULL;
ALTER TABLE users ADD COLUMN scim_deleted_utc TIMESTAMPTZ NULL;
ALTER TABLE teams ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE teams ADD COLUMN external_id TEXT NULL;
ALTER TABLE teams ADD COLUMN scim_deleted_utc TIMESTAMPTZ NULL;
