-- Several approvals: a role may require N distinct approvals (1..5), optionally collected in
-- stages ordered by its approver entries' priority (lowest first). A request keeps the rule
-- it was asked under, so changing the role does not move the goalposts of pending requests.

ALTER TABLE roles ADD required_approvals BIGINT NOT NULL CONSTRAINT df_roles_required_approvals DEFAULT 1;
ALTER TABLE roles ADD approval_stages BIT NOT NULL CONSTRAINT df_roles_approval_stages DEFAULT 0;

ALTER TABLE requests ADD required_approvals BIGINT NOT NULL CONSTRAINT df_requests_required_approvals DEFAULT 1;
ALTER TABLE requests ADD approval_stages BIT NOT NULL CONSTRAINT df_requests_approval_stages DEFAULT 0;

-- Nobody counts twice: one approval per approver and request, even under races.
CREATE UNIQUE INDEX ux_approvals_approver ON approvals (request_id, approver_user_id)
    WHERE decision = 'approved';
