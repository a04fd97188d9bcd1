-- The access lifecycle: scheduled access (a request may name when its grant starts),
-- extensions of a live grant (a request linked to the grant it
-- extends), approval windows (a pending request expires when its decide-by time passes) and
-- the per-role limits on both.

ALTER TABLE roles ADD COLUMN approval_window_minutes BIGINT NOT NULL DEFAULT 1440;
ALTER TABLE roles ADD COLUMN max_extension_minutes BIGINT NULL;
ALTER TABLE roles ADD COLUMN max_extensions BIGINT NOT NULL DEFAULT 3;
ALTER TABLE roles ADD COLUMN max_total_minutes BIGINT NULL;

ALTER TABLE requests ADD COLUMN extends_grant_id BIGINT NULL REFERENCES grants (id);
-- Extensions the grant had already got when this extension was asked for.
ALTER TABLE requests ADD COLUMN previous_extensions BIGINT NULL;
ALTER TABLE requests ADD COLUMN decide_by_utc TIMESTAMPTZ NULL;
-- Requests pending before this version get the default window from their creation.
UPDATE requests SET decide_by_utc = created_utc + INTERVAL '1440 minutes' WHERE status = 'pending';

-- Scheduled access: when the grant starts (NULL: as soon as it is approved).
ALTER TABLE requests ADD COLUMN start_utc TIMESTAMPTZ NULL;

ALTER TABLE grants ADD COLUMN extensions BIGINT NOT NULL DEFAULT 0;

-- One open request per user and role, extensions aside (they belong to a grant)...
DROP INDEX ux_requests_open;
CREATE UNIQUE INDEX ux_requests_open ON requests (user_id, role_id)
    WHERE status IN ('pending', 'approved', 'auto_approved') AND extends_grant_id IS NULL;
-- ...and one pending extension per grant: concurrent extensions of one grant, one wins.
CREATE UNIQUE INDEX ux_requests_pending_extension ON requests (extends_grant_id)
    WHERE status = 'pending' AND extends_grant_id IS NOT NULL;
CREATE INDEX ix_requests_decide_by ON requests (status, decide_by_utc);
CREATE INDEX ix_requests_extends ON requests (extends_grant_id);
