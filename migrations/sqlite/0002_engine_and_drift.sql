-- Expiry engine leases and retry state on grants, reconciliation runs and their findings.

-- Which process holds a grant (claimed for expiry or provisioning) and until when.
ALTER TABLE grants ADD COLUMN lease_owner TEXT NULL;
ALTER TABLE grants ADD COLUMN lease_until_utc TEXT NULL;
-- Failed provisioning/revocation attempts and when to try next (exponential backoff).
ALTER TABLE grants ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE grants ADD COLUMN next_attempt_utc TEXT NULL;
-- Set when removing access keeps failing, the grant stays live and keeps being retried.
ALTER TABLE grants ADD COLUMN revoke_failed INTEGER NOT NULL DEFAULT 0;
-- An early end that is decided but not yet carried out on the targets: revoke or fail.
ALTER TABLE grants ADD COLUMN pending_end TEXT NULL;
CREATE INDEX ix_grants_revoke_failed ON grants (revoke_failed, status);

CREATE TABLE reconciliation_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_utc TEXT NOT NULL,
    finished_utc TEXT NULL,
    trigger_source TEXT NOT NULL,
    actor_login_name TEXT NOT NULL,
    status TEXT NOT NULL,
    targets_checked INTEGER NOT NULL DEFAULT 0,
    findings INTEGER NOT NULL DEFAULT 0,
    repaired INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0
);

-- kind: missing (grant active, member absent), unexpected (member without an active grant),
-- direct_grant (object permission granted to a login directly), target_error.
-- action: re_added, re_add_failed, removed, remove_failed, reported.
CREATE TABLE drift_findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES reconciliation_runs (id),
    target_id INTEGER NOT NULL REFERENCES targets (id),
    db_role_id INTEGER NULL REFERENCES db_roles (id),
    login_name TEXT NULL,
    kind TEXT NOT NULL,
    grant_id INTEGER NULL REFERENCES grants (id),
    object_name TEXT NULL,
    privilege TEXT NULL,
    action TEXT NOT NULL,
    error TEXT NULL,
    detected_utc TEXT NOT NULL
);
CREATE INDEX ix_drift_findings_run ON drift_findings (run_id, kind);
