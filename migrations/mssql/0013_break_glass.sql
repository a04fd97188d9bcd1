-- Break-glass access: a role marked `break_glass` grants at once to eligible users (with a
-- mandatory justification), bypassing approvers. The grant is flagged and needs an
-- after-the-fact review by an approver of the role within the role's review window.

ALTER TABLE roles ADD break_glass BIT NOT NULL CONSTRAINT df_roles_break_glass DEFAULT 0;
ALTER TABLE roles ADD review_window_minutes BIGINT NOT NULL CONSTRAINT df_roles_review_window DEFAULT 1440;

ALTER TABLE grants ADD break_glass BIT NOT NULL CONSTRAINT df_grants_break_glass DEFAULT 0;
-- When the review is due (NULL unless break-glass).
ALTER TABLE grants ADD review_due_utc DATETIMEOFFSET NULL;
-- The review, once made (exactly one: set by a compare-and-set on reviewed_utc IS NULL).
ALTER TABLE grants ADD reviewed_utc DATETIMEOFFSET NULL;
ALTER TABLE grants ADD reviewed_by_user_id BIGINT NULL REFERENCES users (id);
ALTER TABLE grants ADD reviewed_by_login_name NVARCHAR(255) NULL;
-- `accept` or `flag`.
ALTER TABLE grants ADD review_outcome NVARCHAR(255) NULL;
ALTER TABLE grants ADD review_comment NVARCHAR(MAX) NULL;

-- Unreviewed (and overdue) break-glass grants, for the overview and the report.
CREATE INDEX ix_grants_break_glass_review ON grants (break_glass, reviewed_utc, review_due_utc);
