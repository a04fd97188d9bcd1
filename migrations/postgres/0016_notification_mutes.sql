-- What a user has muted of their optional notices (issue 11): `reminders` (before a grant
-- ends) and `decisions` (decisions and access given or extended). Security alerts and calls
-- to act cannot be muted.

CREATE TABLE notification_mutes (
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    created_utc TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind)
);
