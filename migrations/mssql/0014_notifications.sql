-- Notifications (issue 11): outbox events fan out into deliveries, one per event, channel and
-- recipient, which the delivery engine sends with retries under a lease.

CREATE TABLE notification_deliveries (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    outbox_id BIGINT NOT NULL,
    event_type NVARCHAR(100) NOT NULL,
    channel NVARCHAR(32) NOT NULL,
    recipient_user_id BIGINT NULL REFERENCES users(id),
    address NVARCHAR(320) NOT NULL,
    subject NVARCHAR(400) NOT NULL,
    body_text NVARCHAR(MAX) NOT NULL,
    body_html NVARCHAR(MAX) NULL,
    status NVARCHAR(16) NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_utc DATETIMEOFFSET NOT NULL,
    lease_owner NVARCHAR(200) NULL,
    lease_until_utc DATETIMEOFFSET NULL,
    last_error NVARCHAR(MAX) NULL,
    idempotency_key NVARCHAR(200) NOT NULL,
    created_utc DATETIMEOFFSET NOT NULL,
    sent_utc DATETIMEOFFSET NULL,
    CONSTRAINT ux_notification_deliveries_key UNIQUE (idempotency_key),
    CONSTRAINT ck_notification_deliveries_status CHECK (status IN ('pending', 'sent', 'failed'))
);
-- Due pending deliveries (the engine's claim) and lists by status.
CREATE INDEX ix_notification_deliveries_due ON notification_deliveries (status, next_attempt_utc);
CREATE INDEX ix_notification_deliveries_status ON notification_deliveries (status, id);

CREATE TABLE notification_attempts (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES notification_deliveries(id),
    attempted_utc DATETIMEOFFSET NOT NULL,
    ok BIT NOT NULL,
    error NVARCHAR(MAX) NULL
);
CREATE INDEX ix_notification_attempts_delivery ON notification_attempts (delivery_id, id);

-- The fan-out cursor: the last outbox id turned into deliveries (one row). It starts after
-- the events that exist when notifications are installed: history is not mailed out.
CREATE TABLE notification_cursor (
    id BIGINT NOT NULL PRIMARY KEY,
    last_outbox_id BIGINT NOT NULL
);
INSERT INTO notification_cursor (id, last_outbox_id) SELECT 1, COALESCE(MAX(id), 0) FROM outbox;
