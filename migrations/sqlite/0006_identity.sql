-- Where a user comes from: `local` (typed in by an admin), `oidc` (created at first single
-- sign-on), `directory` (LDAP / Active Directory sync) or `scim` (provisioned by the identity
-- provider), and that source's stable id for the person (OIDC `sub`, directory entry UUID or
-- DN, SCIM `externalId`), so renames in the source do not create a second user.

ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE users ADD COLUMN external_id TEXT NULL;
CREATE INDEX ix_users_source_external ON users (source, external_id);
