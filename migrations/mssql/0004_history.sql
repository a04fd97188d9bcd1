-- History is never lost: the audit log is append-only. No route updates or deletes its rows:
-- this trigger refuses UPDATE and DELETE for anyone writing to the database directly, too.
-- (TRUNCATE TABLE fires no trigger on SQL Server: the foreign keys that point from
-- audit_log to users, requests and grants do not stop it either, so grant JITEA's login only
-- INSERT and SELECT on audit_log in production.)
CREATE TRIGGER audit_log_append_only ON audit_log INSTEAD OF UPDATE, DELETE AS BEGIN THROW 51000, 'audit_log is append-only', 1; END;
