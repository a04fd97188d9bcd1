-- SCIM 2.0 (RFC 7643/7644): the identity provider's bearer tokens (only a SHA-256 of each is
-- kept), the enterprise extension's employee number, and a mark for users and teams the
-- identity provider deleted (they stay, inactive, for history, and SCIM answers 404 for them).
-- Teams learn where they come from, like users (0006_identity).

CREATE TABLE scim_tokens (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    name NVARCHAR(255) NOT NULL,
    token_hash NVARCHAR(64) NOT NULL UNIQUE,
    token_prefix NVARCHAR(64) NOT NULL,
    created_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    last_used_utc DATETIMEOFFSET NULL,
    revoked_utc DATETIMEOFFSET NULL,
    revoked_by NVARCHAR(255) NULL
);

ALTER TABLE users ADD employee_number NVARCHAR(255) NULL;
ALTER TABLE users ADD scim_deleted_utc DATETIMEOFFSET NULL;
ALTER TABLE teams ADD source NVARCHAR(255) NOT NULL CONSTRAINT df_teams_source DEFAULT 'local';
ALTER TABLE teams ADD external_id NVARCHAR(255) NULL;
ALTER TABLE teams ADD scim_deleted_utc DATETIMEOFFSET NULL;
