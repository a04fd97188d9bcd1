-- Principals per target (issue 12): on a target with principal_from = external_id, who each
-- JITEA user is there (one user per principal on a target), and on every assignment the
-- principal it was added for, so removal always names whoever was given the access even if
-- the user's email or mapping changed since.

CREATE TABLE target_principals (
    target_id BIGINT NOT NULL REFERENCES targets(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    principal TEXT NOT NULL,
    created_utc TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (target_id, user_id)
);
CREATE UNIQUE INDEX ux_target_principals_principal ON target_principals (target_id, principal);

ALTER TABLE grant_db_role_assignments ADD COLUMN principal TEXT NULL;
