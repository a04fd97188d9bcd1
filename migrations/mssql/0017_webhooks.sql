-- Signed webhooks (issue 11): subscriptions by event type, each with its own signing secret.
-- A delivery to a subscription names it. Deliveries to one recipient (channel and address)
-- are sent in order, so the engine claims only the oldest pending one of each.

CREATE TABLE webhook_subscriptions (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    url NVARCHAR(320) NOT NULL,
    -- The event types, as a JSON array of strings (`*` for all).
    events_json NVARCHAR(MAX) NOT NULL,
    description NVARCHAR(400) NULL,
    -- `whsec_` + base64 of 32 random bytes: the HMAC key (Standard Webhooks).
    secret NVARCHAR(100) NOT NULL,
    is_enabled BIT NOT NULL CONSTRAINT df_webhook_subscriptions_enabled DEFAULT 1,
    created_by NVARCHAR(200) NOT NULL,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL
);

ALTER TABLE notification_deliveries ADD subscription_id BIGINT NULL;
-- The oldest pending delivery per recipient (the engine's in-order claim).
CREATE INDEX ix_notification_deliveries_queue ON notification_deliveries (channel, address, status, id);
