-- History is never lost: the audit log is append-only. No route updates or deletes its rows:
-- these triggers refuse UPDATE, DELETE and TRUNCATE for anyone writing to the database
-- directly, too (only the table's owner dropping the trigger could get around them, which
-- is itself a schema change outside JITEA).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
