-- Directory sync (LDAP / Active Directory): one row per run with its counts, and the
-- `job_leases` row that lets only one replica sync at a time.

CREATE TABLE directory_sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_utc TEXT NOT NULL,
    finished_utc TEXT NULL,
    trigger_source TEXT NOT NULL,
    actor_login_name TEXT NOT NULL,
    dry_run INTEGER NOT NULL DEFAULT 0,
    forced INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    message TEXT NULL,
    entries_seen INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    deactivated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_directory_sync_runs_started ON directory_sync_runs (started_utc);

INSERT INTO job_leases (job_name) VALUES ('directory_sync');
