-- Break-glass access: a role marked `break_glass` grants at once to eligible users (with a
-- mandatory justification), bypassing approvers. The grant is flagged and needs an
-- after-the-fact review by an approver of the role within the role's review window.

ALTER TABLE roles ADD COLUMN break_glass BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE roles ADD COLUMN review_window_minutes BIGINT NOT NULL DEFAULT 1440;

ALTER TABLE grants ADD COLUMN break_glass BOOLEAN NOT NULL DEFAULT FALSE;
-- When the review is due (NULL unless break-glass).
ALTER TABLE grants ADD COLUMN review_due_utc TIMESTAMPTZ NULL;
-- The review, once made (exactly one: set by a compare-and-set on reviewed_utc IS NULL).
ALTER TABLE grants ADD COLUMN reviewed_utc TIMESTAMPTZ NULL;
ALTER TABLE grants ADD COLUMN reviewed_by_user_id BIGINT NULL REFERENCES users (id);
ALTER TABLE grants ADD COLUMN reviewed_by_login_name TEXT NULL;
-- `accept` or `flag`.
ALTER TABLE grants ADD COLUMN review_outcome TEXT NULL;
ALTER TABLE grants ADD COLUMN review_comment TEXT NULL;

-- Unreviewed (and overdue) break-glass grants, for the overview and the report.
CREATE INDEX ix_grants_break_glass_review ON grants (break_glass, reviewed_utc, review_due_utc);
