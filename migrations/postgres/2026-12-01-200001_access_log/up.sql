-- The access journal (issue 14): one row per read of personal data (an application, its documents, a
-- registry record): who read it, in which role and organisation, what, for which application, about
-- whom, when, in which request. Rows are only ever added: the triggers below refuse UPDATE and DELETE.
CREATE TABLE access_log (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_sub VARCHAR(64) NOT NULL,
    actor_role VARCHAR(16) NOT NULL,
    actor_org VARCHAR(64),
    kind VARCHAR(32) NOT NULL,
    resource_id VARCHAR(64) NOT NULL,
    application_id VARCHAR(36),
    subject_iin VARCHAR(12),
    request_id VARCHAR(64)
);

CREATE INDEX access_log_by_subject ON access_log (subject_iin, id);
CREATE INDEX access_log_by_application ON access_log (application_id, id);
CREATE INDEX access_log_by_actor ON access_log (actor_sub, id);

-- backend-specific: begin
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access journal is append-only';
END;
$$;
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
-- backend-specific: end
