-- Several approvals: a role may require N distinct approvals (1..5), optionally collected in
-- stages ordered by its approver entries' priority (lowest first). A request keeps the rule
-- it was asked under, so changing the role does not move the goalposts of pending requests.

ALTER TABLE roles ADD COLUMN required_approvals BIGINT NOT NULL DEFAULT 1;
ALTER TABLE roles ADD COLUMN approval_stages BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE requests ADD COLUMN required_approvals BIGINT NOT NULL DEFAULT 1;
ALTER TABLE requests ADD COLUMN approval_stages BOOLEAN NOT NULL DEFAULT FALSE;

-- Nobody counts twice: one approval per approver and request, even under races.
CREATE UNIQUE INDEX ux_approvals_approver ON approvals (request_id, approver_user_id)
    WHERE decision = 'approved';
