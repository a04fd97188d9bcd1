-- Grant lifecycle ownership: every effect on a target happens under the grant's lease, whose
-- owner value is unique per acquisition and doubles as the fencing token. Renewals and
-- fenced bookkeeping look grants up by it. Periodic jobs that must run once per interval
-- across replicas (reconciliation) claim a row here.

CREATE INDEX ix_grants_lease_owner ON grants (lease_owner);

CREATE TABLE job_leases (
    job_name TEXT NOT NULL PRIMARY KEY,
    lease_owner TEXT NULL,
    lease_until_utc TEXT NULL,
    last_started_utc TEXT NULL
);
INSERT INTO job_leases (job_name) VALUES ('reconcile');
