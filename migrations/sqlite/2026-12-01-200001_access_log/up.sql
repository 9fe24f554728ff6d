-- The access journal (issue 14): one row per read of personal data (an application, its documents, a
-- registry record): who read it, in which role and organisation, what, for which application, about
-- whom, when, in which request. Rows are only ever added: the triggers below refuse UPDATE and DELETE.
CREATE TABLE access_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
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
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access journal is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access journal is append-only');
END;
-- backend-specific: end
