-- A role's own team chat channel (issue 11): the key of JITEA_SLACK_WEBHOOK_URL_<KEY> /
-- JITEA_TEAMS_WEBHOOK_URL_<KEY>. NULL means the global channel.

ALTER TABLE roles ADD COLUMN chat_channel TEXT NULL;
