-- The access lifecycle: scheduled access (a request may name when its grant starts),
-- extensions of a live grant (a request linked to the grant it
-- extends), approval windows (a pending request expires when its decide-by time passes) and
-- the per-role limits on both.

ALTER TABLE roles ADD COLUMN approval_window_minutes INTEGER NOT NULL DEFAULT 1440;
ALTER TABLE roles ADD COLUMN max_extension_minutes INTEGER NULL;
ALTER TABLE roles ADD COLUMN max_extensions INTEGER NOT NULL DEFAULT 3;
ALTER TABLE roles ADD COLUMN max_total_minutes INTEGER NULL;

ALTER TABLE requests ADD COLUMN extends_grant_id INTEGER NULL REFERENCES grants (id);
-- Extensions the grant had already got when this extension was asked for.
ALTER TABLE requests ADD COLUMN previous_extensions INTEGER NULL;
ALTER TABLE requests ADD COLUMN decide_by_utc TEXT NULL;
-- Requests pending before this version get the default window from their creation.
UPDATE requests SET decide_by_utc = strftime('%Y-%m-%d %H:%M:%f', created_utc, '+1440 minutes') || '+00:00'
    WHERE status = 'pending';

-- Scheduled access: when the grant starts (NULL: as soon as it is approved).
ALTER TABLE requests ADD COLUMN start_utc TEXT NULL;

ALTER TABLE grants ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0;

-- One open request per user and role, extensions aside (they belong to a grant)...
DROP INDEX ux_requests_open;
CREATE UNIQUE INDEX ux_requests_open ON requests (user_id, role_id)
    WHERE status IN ('pending', 'approved', 'auto_approved') AND extends_grant_id IS NULL;
-- ...and one pending extension per grant: concurrent extensions of one grant, one wins.
CREATE UNIQUE INDEX ux_requests_pending_extension ON requests (extends_grant_id)
    WHERE status = 'pending' AND extends_grant_id IS NOT NULL;
CREATE INDEX ix_requests_decide_by ON requests (status, decide_by_utc);
CREATE INDEX ix_requests_extends ON requests (extends_grant_id);
