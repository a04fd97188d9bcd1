-- JITEA core schema (SQLite). The same tables exist in ../postgres and ../mssql.
-- Every timestamp is UTC, written by the service in one text format.
-- Integer ids are 64-bit everywhere; booleans are 0/1 here, BOOLEAN/BIT elsewhere.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login_name TEXT NOT NULL UNIQUE,
    given_name TEXT NULL,
    surname TEXT NULL,
    display_name TEXT NULL,
    email TEXT NULL,
    division TEXT NULL,
    department TEXT NULL,
    job_title TEXT NULL,
    seniority_level INTEGER NULL,
    manager_login_name TEXT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    is_admin INTEGER NOT NULL DEFAULT 0,
    is_auditor INTEGER NOT NULL DEFAULT 0,
    last_ad_sync_utc TEXT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX ix_users_manager ON users (manager_login_name);
CREATE INDEX ix_users_department ON users (department, is_active);

-- Built-in login: one argon2 PHC string per user that may sign in with a password.
CREATE TABLE local_credentials (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    password_hash TEXT NOT NULL,
    updated_utc TEXT NOT NULL
);

-- Token signing material, generated once and shared by every process on this database.
CREATE TABLE signing_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kid TEXT NOT NULL UNIQUE,
    algorithm TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_utc TEXT NOT NULL
);

-- A system JITEA provisions on. The connection secret is never stored: only the name of the
-- environment variable that holds the URL.
CREATE TABLE targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    description TEXT NULL,
    connection_url_env TEXT NULL,
    drift_policy TEXT NOT NULL DEFAULT 'report',
    is_enabled INTEGER NOT NULL DEFAULT 1,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role_name TEXT NOT NULL UNIQUE,
    description TEXT NULL,
    max_duration_minutes INTEGER NOT NULL,
    requires_ticket INTEGER NOT NULL DEFAULT 0,
    ticket_regex TEXT NULL,
    requires_justification INTEGER NOT NULL DEFAULT 1,
    requires_approval INTEGER NOT NULL DEFAULT 1,
    auto_approve_min_seniority INTEGER NULL,
    is_enabled INTEGER NOT NULL DEFAULT 1,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE db_roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target_id INTEGER NOT NULL REFERENCES targets (id),
    db_role_name TEXT NOT NULL,
    role_type TEXT NULL,
    description TEXT NULL,
    is_jit_managed INTEGER NOT NULL DEFAULT 1,
    has_unmask INTEGER NOT NULL DEFAULT 0,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (target_id, db_role_name)
);

CREATE TABLE role_db_roles (
    role_id INTEGER NOT NULL REFERENCES roles (id),
    db_role_id INTEGER NOT NULL REFERENCES db_roles (id),
    is_required INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (role_id, db_role_id)
);
CREATE INDEX ix_role_db_roles_db_role ON role_db_roles (db_role_id);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_name TEXT NOT NULL UNIQUE,
    description TEXT NULL,
    division TEXT NULL,
    department TEXT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE user_teams (
    user_id INTEGER NOT NULL REFERENCES users (id),
    team_id INTEGER NOT NULL REFERENCES teams (id),
    is_active INTEGER NOT NULL DEFAULT 1,
    assigned_utc TEXT NOT NULL,
    removed_utc TEXT NULL,
    PRIMARY KEY (user_id, team_id)
);
CREATE INDEX ix_user_teams_team ON user_teams (team_id, is_active);

CREATE TABLE role_eligibility_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role_id INTEGER NOT NULL REFERENCES roles (id),
    scope_type TEXT NOT NULL,
    scope_value TEXT NULL,
    can_request INTEGER NOT NULL DEFAULT 1,
    valid_from_utc TEXT NULL,
    valid_to_utc TEXT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX ix_role_eligibility_rules_scope ON role_eligibility_rules (role_id, scope_type, scope_value);

CREATE TABLE user_role_eligibility (
    user_id INTEGER NOT NULL REFERENCES users (id),
    role_id INTEGER NOT NULL REFERENCES roles (id),
    can_request INTEGER NOT NULL,
    valid_from_utc TEXT NULL,
    valid_to_utc TEXT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (user_id, role_id)
);

-- approver_type: user (approver_user_id), manager (the requester's manager),
-- team (approver_team_id: its active members), department (approver_department).
CREATE TABLE role_approvers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role_id INTEGER NOT NULL REFERENCES roles (id),
    approver_type TEXT NOT NULL,
    approver_user_id INTEGER NULL REFERENCES users (id),
    approver_team_id INTEGER NULL REFERENCES teams (id),
    approver_department TEXT NULL,
    approver_login_name TEXT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    created_utc TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX ix_role_approvers_role ON role_approvers (role_id);

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    role_id INTEGER NOT NULL REFERENCES roles (id),
    requested_duration_minutes INTEGER NOT NULL,
    justification TEXT NULL,
    ticket_ref TEXT NULL,
    status TEXT NOT NULL,
    auto_approval_reason TEXT NULL,
    user_dept_snapshot TEXT NULL,
    user_title_snapshot TEXT NULL,
    user_division_snapshot TEXT NULL,
    user_seniority_snapshot INTEGER NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX ix_requests_user ON requests (user_id, status);
CREATE INDEX ix_requests_status ON requests (status, id);
-- One open request per user and role: the database enforces it even under races.
CREATE UNIQUE INDEX ux_requests_open ON requests (user_id, role_id)
    WHERE status IN ('pending', 'approved', 'auto_approved');

CREATE TABLE approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL REFERENCES requests (id),
    approver_user_id INTEGER NULL REFERENCES users (id),
    approver_login_name TEXT NOT NULL,
    decision TEXT NOT NULL,
    decision_comment TEXT NULL,
    decision_utc TEXT NOT NULL
);
CREATE INDEX ix_approvals_request ON approvals (request_id);

CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NULL REFERENCES requests (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    role_id INTEGER NOT NULL REFERENCES roles (id),
    valid_from_utc TEXT NOT NULL,
    valid_to_utc TEXT NOT NULL,
    revoked_utc TEXT NULL,
    revoke_reason TEXT NULL,
    revoked_by_user_id INTEGER NULL REFERENCES users (id),
    issued_by_user_id INTEGER NULL REFERENCES users (id),
    status TEXT NOT NULL,
    status_detail TEXT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL
);
CREATE INDEX ix_grants_user_role ON grants (user_id, role_id, status, valid_to_utc);
CREATE INDEX ix_grants_status_due ON grants (status, valid_to_utc);
CREATE UNIQUE INDEX ux_grants_request ON grants (request_id) WHERE request_id IS NOT NULL;
-- One live grant per user and role.
CREATE UNIQUE INDEX ux_grants_live ON grants (user_id, role_id)
    WHERE status IN ('provisioning', 'active');

CREATE TABLE grant_db_role_assignments (
    grant_id INTEGER NOT NULL REFERENCES grants (id),
    db_role_id INTEGER NOT NULL REFERENCES db_roles (id),
    add_attempt_utc TEXT NULL,
    add_succeeded INTEGER NULL,
    add_error TEXT NULL,
    drop_attempt_utc TEXT NULL,
    drop_succeeded INTEGER NULL,
    drop_error TEXT NULL,
    PRIMARY KEY (grant_id, db_role_id)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_utc TEXT NOT NULL,
    event_type TEXT NOT NULL,
    actor_user_id INTEGER NULL REFERENCES users (id),
    actor_login_name TEXT NOT NULL,
    target_user_id INTEGER NULL REFERENCES users (id),
    request_id INTEGER NULL REFERENCES requests (id),
    grant_id INTEGER NULL REFERENCES grants (id),
    details_json TEXT NULL
);
CREATE INDEX ix_audit_log_event ON audit_log (event_utc, event_type, actor_login_name);
CREATE INDEX ix_audit_log_request ON audit_log (request_id);
CREATE INDEX ix_audit_log_grant ON audit_log (grant_id);
CREATE INDEX ix_audit_log_target_user ON audit_log (target_user_id);

-- Notifications and events to deliver, written in the same transaction as the change.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_utc TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    available_utc TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_utc TEXT NULL,
    last_error TEXT NULL
);
CREATE INDEX ix_outbox_pending ON outbox (delivered_utc, available_utc);

-- A single row every writing transaction touches first, so that on SQLite a transaction
-- takes the write lock up front instead of failing when it upgrades from a read.
CREATE TABLE write_lock (
    id INTEGER PRIMARY KEY,
    counter INTEGER NOT NULL
);
INSERT INTO write_lock (id, counter) VALUES (1, 0);
