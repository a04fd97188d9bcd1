-- JITEA core schema (SQL Server 2019 or later). The same tables exist in ../sqlite and ../postgres.
-- Every timestamp is UTC and stored as DATETIMEOFFSET (the driver decodes DateTime<Utc> only from it).
-- Integer ids and numbers are BIGINT everywhere (the service reads them as i64), booleans are BIT.
-- Names and short text are NVARCHAR(255) (every column in a key or index is one of these),
-- long free text is NVARCHAR(MAX).
-- Foreign keys have no ON DELETE action, as in the SQLite file (SQL Server also rejects
-- multiple cascade paths). Partial unique indexes are filtered indexes.
-- The migration runner splits this file on a semicolon that ends a line, so a statement
-- never has one at a line end inside it, comments and strings never contain one, and there
-- are no GO batch separators.

CREATE TABLE users (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    login_name NVARCHAR(255) NOT NULL UNIQUE,
    given_name NVARCHAR(255) NULL,
    surname NVARCHAR(255) NULL,
    display_name NVARCHAR(255) NULL,
    email NVARCHAR(255) NULL,
    division NVARCHAR(255) NULL,
    department NVARCHAR(255) NULL,
    job_title NVARCHAR(255) NULL,
    seniority_level BIGINT NULL,
    manager_login_name NVARCHAR(255) NULL,
    is_active BIT NOT NULL DEFAULT 1,
    is_admin BIT NOT NULL DEFAULT 0,
    is_auditor BIT NOT NULL DEFAULT 0,
    last_ad_sync_utc DATETIMEOFFSET NULL,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL
);
CREATE INDEX ix_users_manager ON users (manager_login_name);
CREATE INDEX ix_users_department ON users (department, is_active);

-- Built-in login: one argon2 PHC string per user that may sign in with a password.
CREATE TABLE local_credentials (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id),
    password_hash NVARCHAR(MAX) NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL
);

-- Token signing material, generated once and shared by every process on this database.
CREATE TABLE signing_keys (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    kid NVARCHAR(255) NOT NULL UNIQUE,
    algorithm NVARCHAR(255) NOT NULL,
    secret NVARCHAR(MAX) NOT NULL,
    created_utc DATETIMEOFFSET NOT NULL
);

-- A system JITEA provisions on. The connection secret is never stored: only the name of the
-- environment variable that holds the URL.
CREATE TABLE targets (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    name NVARCHAR(255) NOT NULL UNIQUE,
    kind NVARCHAR(255) NOT NULL,
    description NVARCHAR(MAX) NULL,
    connection_url_env NVARCHAR(255) NULL,
    drift_policy NVARCHAR(255) NOT NULL DEFAULT 'report',
    is_enabled BIT NOT NULL DEFAULT 1,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL
);

CREATE TABLE roles (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    role_name NVARCHAR(255) NOT NULL UNIQUE,
    description NVARCHAR(MAX) NULL,
    max_duration_minutes BIGINT NOT NULL,
    requires_ticket BIT NOT NULL DEFAULT 0,
    ticket_regex NVARCHAR(MAX) NULL,
    requires_justification BIT NOT NULL DEFAULT 1,
    requires_approval BIT NOT NULL DEFAULT 1,
    auto_approve_min_seniority BIGINT NULL,
    is_enabled BIT NOT NULL DEFAULT 1,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL
);

CREATE TABLE db_roles (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    target_id BIGINT NOT NULL REFERENCES targets (id),
    db_role_name NVARCHAR(255) NOT NULL,
    role_type NVARCHAR(255) NULL,
    description NVARCHAR(MAX) NULL,
    is_jit_managed BIT NOT NULL DEFAULT 1,
    has_unmask BIT NOT NULL DEFAULT 0,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL,
    UNIQUE (target_id, db_role_name)
);

CREATE TABLE role_db_roles (
    role_id BIGINT NOT NULL REFERENCES roles (id),
    db_role_id BIGINT NOT NULL REFERENCES db_roles (id),
    is_required BIT NOT NULL DEFAULT 1,
    PRIMARY KEY (role_id, db_role_id)
);
CREATE INDEX ix_role_db_roles_db_role ON role_db_roles (db_role_id);

CREATE TABLE teams (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    team_name NVARCHAR(255) NOT NULL UNIQUE,
    description NVARCHAR(MAX) NULL,
    division NVARCHAR(255) NULL,
    department NVARCHAR(255) NULL,
    is_active BIT NOT NULL DEFAULT 1,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL
);

CREATE TABLE user_teams (
    user_id BIGINT NOT NULL REFERENCES users (id),
    team_id BIGINT NOT NULL REFERENCES teams (id),
    is_active BIT NOT NULL DEFAULT 1,
    assigned_utc DATETIMEOFFSET NOT NULL,
    removed_utc DATETIMEOFFSET NULL,
    PRIMARY KEY (user_id, team_id)
);
CREATE INDEX ix_user_teams_team ON user_teams (team_id, is_active);

CREATE TABLE role_eligibility_rules (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    role_id BIGINT NOT NULL REFERENCES roles (id),
    scope_type NVARCHAR(255) NOT NULL,
    scope_value NVARCHAR(255) NULL,
    can_request BIT NOT NULL DEFAULT 1,
    valid_from_utc DATETIMEOFFSET NULL,
    valid_to_utc DATETIMEOFFSET NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL
);
CREATE INDEX ix_role_eligibility_rules_scope ON role_eligibility_rules (role_id, scope_type, scope_value);

CREATE TABLE user_role_eligibility (
    user_id BIGINT NOT NULL REFERENCES users (id),
    role_id BIGINT NOT NULL REFERENCES roles (id),
    can_request BIT NOT NULL,
    valid_from_utc DATETIMEOFFSET NULL,
    valid_to_utc DATETIMEOFFSET NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL,
    PRIMARY KEY (user_id, role_id)
);

-- approver_type: user (approver_user_id), manager (the requester's manager),
-- team (approver_team_id: its active members), department (approver_department).
CREATE TABLE role_approvers (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    role_id BIGINT NOT NULL REFERENCES roles (id),
    approver_type NVARCHAR(255) NOT NULL,
    approver_user_id BIGINT NULL REFERENCES users (id),
    approver_team_id BIGINT NULL REFERENCES teams (id),
    approver_department NVARCHAR(255) NULL,
    approver_login_name NVARCHAR(255) NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    created_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL
);
CREATE INDEX ix_role_approvers_role ON role_approvers (role_id);

CREATE TABLE requests (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    role_id BIGINT NOT NULL REFERENCES roles (id),
    requested_duration_minutes BIGINT NOT NULL,
    justification NVARCHAR(MAX) NULL,
    ticket_ref NVARCHAR(255) NULL,
    status NVARCHAR(255) NOT NULL,
    auto_approval_reason NVARCHAR(MAX) NULL,
    user_dept_snapshot NVARCHAR(255) NULL,
    user_title_snapshot NVARCHAR(255) NULL,
    user_division_snapshot NVARCHAR(255) NULL,
    user_seniority_snapshot BIGINT NULL,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL,
    created_by NVARCHAR(255) NOT NULL,
    updated_by NVARCHAR(255) NOT NULL
);
CREATE INDEX ix_requests_user ON requests (user_id, status);
CREATE INDEX ix_requests_status ON requests (status, id);
-- One open request per user and role: the database enforces it even under races.
CREATE UNIQUE INDEX ux_requests_open ON requests (user_id, role_id)
    WHERE status IN ('pending', 'approved', 'auto_approved');

CREATE TABLE approvals (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    approver_user_id BIGINT NULL REFERENCES users (id),
    approver_login_name NVARCHAR(255) NOT NULL,
    decision NVARCHAR(255) NOT NULL,
    decision_comment NVARCHAR(MAX) NULL,
    decision_utc DATETIMEOFFSET NOT NULL
);
CREATE INDEX ix_approvals_request ON approvals (request_id);

CREATE TABLE grants (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    request_id BIGINT NULL REFERENCES requests (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    role_id BIGINT NOT NULL REFERENCES roles (id),
    valid_from_utc DATETIMEOFFSET NOT NULL,
    valid_to_utc DATETIMEOFFSET NOT NULL,
    revoked_utc DATETIMEOFFSET NULL,
    revoke_reason NVARCHAR(MAX) NULL,
    revoked_by_user_id BIGINT NULL REFERENCES users (id),
    issued_by_user_id BIGINT NULL REFERENCES users (id),
    status NVARCHAR(255) NOT NULL,
    status_detail NVARCHAR(MAX) NULL,
    created_utc DATETIMEOFFSET NOT NULL,
    updated_utc DATETIMEOFFSET NOT NULL
);
CREATE INDEX ix_grants_user_role ON grants (user_id, role_id, status, valid_to_utc);
CREATE INDEX ix_grants_status_due ON grants (status, valid_to_utc);
CREATE UNIQUE INDEX ux_grants_request ON grants (request_id) WHERE request_id IS NOT NULL;
-- One live grant per user and role.
CREATE UNIQUE INDEX ux_grants_live ON grants (user_id, role_id)
    WHERE status IN ('provisioning', 'active');

CREATE TABLE grant_db_role_assignments (
    grant_id BIGINT NOT NULL REFERENCES grants (id),
    db_role_id BIGINT NOT NULL REFERENCES db_roles (id),
    add_attempt_utc DATETIMEOFFSET NULL,
    add_succeeded BIT NULL,
    add_error NVARCHAR(MAX) NULL,
    drop_attempt_utc DATETIMEOFFSET NULL,
    drop_succeeded BIT NULL,
    drop_error NVARCHAR(MAX) NULL,
    PRIMARY KEY (grant_id, db_role_id)
);

CREATE TABLE audit_log (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    event_utc DATETIMEOFFSET NOT NULL,
    event_type NVARCHAR(255) NOT NULL,
    actor_user_id BIGINT NULL REFERENCES users (id),
    actor_login_name NVARCHAR(255) NOT NULL,
    target_user_id BIGINT NULL REFERENCES users (id),
    request_id BIGINT NULL REFERENCES requests (id),
    grant_id BIGINT NULL REFERENCES grants (id),
    details_json NVARCHAR(MAX) NULL
);
CREATE INDEX ix_audit_log_event ON audit_log (event_utc, event_type, actor_login_name);
CREATE INDEX ix_audit_log_request ON audit_log (request_id);
CREATE INDEX ix_audit_log_grant ON audit_log (grant_id);
CREATE INDEX ix_audit_log_target_user ON audit_log (target_user_id);

-- Notifications and events to deliver, written in the same transaction as the change.
CREATE TABLE outbox (
    id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    created_utc DATETIMEOFFSET NOT NULL,
    topic NVARCHAR(255) NOT NULL,
    payload_json NVARCHAR(MAX) NOT NULL,
    available_utc DATETIMEOFFSET NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    delivered_utc DATETIMEOFFSET NULL,
    last_error NVARCHAR(MAX) NULL
);
CREATE INDEX ix_outbox_pending ON outbox (delivered_utc, available_utc);

-- A single row every writing transaction touches first (kept on every backend so the
-- service code is the same). Its id is fixed, so it is not an IDENTITY column.
CREATE TABLE write_lock (
    id BIGINT NOT NULL PRIMARY KEY,
    counter BIGINT NOT NULL
);
INSERT INTO write_lock (id, counter) VALUES (1, 0);
