-- Cloud targets (issue 12): a target's kind-specific, non-secret settings as a JSON object
-- (aws_sso: region, instance_arn, identity_store_id), and which attribute of a JITEA user
-- names them on the target (login or email).

ALTER TABLE targets ADD COLUMN settings TEXT NULL;
ALTER TABLE targets ADD COLUMN principal_from VARCHAR(16) NOT NULL DEFAULT 'login';
