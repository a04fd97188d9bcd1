-- Cloud targets (issue 12): a target's kind-specific, non-secret settings as a JSON object
-- (aws_sso: region, instance_arn, identity_store_id), and which attribute of a JITEA user
-- names them on the target (login or email).

ALTER TABLE targets ADD settings NVARCHAR(4000) NULL;
ALTER TABLE targets ADD principal_from NVARCHAR(16) NOT NULL CONSTRAINT df_targets_principal_from DEFAULT 'login';
