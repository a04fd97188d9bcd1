-- Signed webhooks (issue 11): subscriptions by event type, each with its own signing secret.
-- A delivery to a subscription names it. Deliveries to one recipient (channel and address)
-- are sent in order, so the engine claims only the oldest pending one of each.

CREATE TABLE webhook_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    -- The event types, as a JSON array of strings (`*` for all).
    events_json TEXT NOT NULL,
    description TEXT NULL,
    -- `whsec_` + base64 of 32 random bytes: the HMAC key (Standard Webhooks).
    secret TEXT NOT NULL,
    is_enabled BOOLEAN NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL
);

ALTER TABLE notification_deliveries ADD COLUMN subscription_id INTEGER NULL;
-- The oldest pending delivery per recipient (the engine's in-order claim).
CREATE INDEX ix_notification_deliveries_queue ON notification_deliveries (channel, address, status, id);
