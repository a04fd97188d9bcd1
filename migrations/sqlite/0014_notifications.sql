-- Notifications (issue 11): outbox events fan out into deliveries, one per event, channel and
-- recipient, which the delivery engine sends with retries under a lease.

CREATE TABLE notification_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient_user_id INTEGER NULL REFERENCES users(id),
    address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_utc TEXT NOT NULL,
    lease_owner TEXT NULL,
    lease_until_utc TEXT NULL,
    last_error TEXT NULL,
    idempotency_key TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    sent_utc TEXT NULL,
    CONSTRAINT ux_notification_deliveries_key UNIQUE (idempotency_key),
    CONSTRAINT ck_notification_deliveries_status CHECK (status IN ('pending', 'sent', 'failed'))
);
-- Due pending deliveries (the engine's claim) and lists by status.
CREATE INDEX ix_notification_deliveries_due ON notification_deliveries (status, next_attempt_utc);
CREATE INDEX ix_notification_deliveries_status ON notification_deliveries (status, id);

CREATE TABLE notification_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES notification_deliveries(id),
    attempted_utc TEXT NOT NULL,
    ok BOOLEAN NOT NULL,
    error TEXT NULL
);
CREATE INDEX ix_notification_attempts_delivery ON notification_attempts (delivery_id, id);

-- The fan-out cursor: the last outbox id turned into deliveries (one row). It starts after
-- the events that exist when notifications are installed: history is not mailed out.
CREATE TABLE notification_cursor (
    id INTEGER PRIMARY KEY,
    last_outbox_id INTEGER NOT NULL
);
INSERT INTO notification_cursor (id, last_outbox_id) SELECT 1, COALESCE(MAX(id), 0) FROM outbox;
