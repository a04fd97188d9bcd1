-- Directory sync (LDAP / Active Directory): one row per run with its counts, and the
-- `job_leases` row that lets only one replica sync at a time.

CREATE TABLE directory_sync_runs (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    started_utc DATETIMEOFFSET NOT NULL,
    finished_utc DATETIMEOFFSET NULL,
    trigger_source NVARCHAR(255) NOT NULL,
    actor_login_name NVARCHAR(255) NOT NULL,
    dry_run BIT NOT NULL DEFAULT 0,
    forced BIT NOT NULL DEFAULT 0,
    status NVARCHAR(255) NOT NULL,
    message NVARCHAR(MAX) NULL,
    entries_seen BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    deactivated BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ix_directory_sync_runs_started ON directory_sync_runs (started_utc);

INSERT INTO job_leases (job_name) VALUES ('directory_sync');
