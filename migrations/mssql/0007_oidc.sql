-- Pending OIDC sign-ins: one row per redirect to the provider (state, nonce, PKCE verifier,
-- where to go afterwards), taken and deleted by the callback (single use), expired after ~10
-- minutes. Rows live in the database so any process behind a load balancer can finish a
-- sign-in another one started. `state_hash` and `browser_hash` are SHA-256 of the `state`
-- value and of the HttpOnly cookie that binds the sign-in to the browser that started it.
CREATE TABLE oidc_logins (
    state_hash NVARCHAR(64) NOT NULL PRIMARY KEY,
    browser_hash NVARCHAR(64) NOT NULL,
    nonce NVARCHAR(128) NOT NULL,
    code_verifier NVARCHAR(128) NOT NULL,
    return_to NVARCHAR(2048) NOT NULL,
    created_utc DATETIMEOFFSET NOT NULL,
    expires_utc DATETIMEOFFSET NOT NULL
);
CREATE INDEX ix_oidc_logins_expires ON oidc_logins (expires_utc);
