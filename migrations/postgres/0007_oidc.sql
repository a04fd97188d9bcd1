-- Pending OIDC sign-ins: one row per redirect to the provider (state, nonce, PKCE verifier,
-- where to go afterwards), taken and deleted by the callback (single use), expired after ~10
-- minutes. Rows live in the database so any process behind a load balancer can finish a
-- sign-in another one started. `state_hash` and `browser_hash` are SHA-256 of the `state`
-- value and of the HttpOnly cookie that binds the sign-in to the browser that started it.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_utc TIMESTAMPTZ NOT NULL,
    expires_utc TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_oidc_logins_expires ON oidc_logins (expires_utc);
