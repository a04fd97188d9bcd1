-- Expiry engine leases and retry state on grants, reconciliation runs and their findings.

ALTER TABLE grants ADD lease_owner NVARCHAR(255) NULL;
ALTER TABLE grants ADD lease_until_utc DATETIMEOFFSET NULL;
ALTER TABLE grants ADD attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE grants ADD next_attempt_utc DATETIMEOFFSET NULL;
ALTER TABLE grants ADD revoke_failed BIT NOT NULL DEFAULT 0;
ALTER TABLE grants ADD pending_end NVARCHAR(255) NULL;
CREATE INDEX ix_grants_revoke_failed ON grants (revoke_failed, status);

CREATE TABLE reconciliation_runs (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    started_utc DATETIMEOFFSET NOT NULL,
    finished_utc DATETIMEOFFSET NULL,
    trigger_source NVARCHAR(255) NOT NULL,
    actor_login_name NVARCHAR(255) NOT NULL,
    status NVARCHAR(255) NOT NULL,
    targets_checked BIGINT NOT NULL DEFAULT 0,
    findings BIGINT NOT NULL DEFAULT 0,
    repaired BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE drift_findings (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES reconciliation_runs (id),
    target_id BIGINT NOT NULL REFERENCES targets (id),
    db_role_id BIGINT NULL REFERENCES db_roles (id),
    login_name NVARCHAR(255) NULL,
    kind NVARCHAR(255) NOT NULL,
    grant_id BIGINT NULL REFERENCES grants (id),
    object_name NVARCHAR(MAX) NULL,
    privilege NVARCHAR(255) NULL,
    action NVARCHAR(255) NOT NULL,
    error NVARCHAR(MAX) NULL,
    detected_utc DATETIMEOFFSET NOT NULL
);
CREATE INDEX ix_drift_findings_run ON drift_findings (run_id, kind);
