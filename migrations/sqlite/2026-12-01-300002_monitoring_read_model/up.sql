-- The monitoring view as SQL over indexes (issue 11): the figures of time the procedure computes when
-- a change happens are kept with the application, and each stage an application passed through is
-- one row, so that monitoring aggregates in the database with bounded memory.

-- When the application entered its current status (the start of the stage it is in).
ALTER TABLE applications ADD COLUMN status_since TIMESTAMP;
-- The service term in working days, from the day the term counts from to the due date.
ALTER TABLE applications ADD COLUMN term_working_days BIGINT;
-- Working days from the day the term counted from to the decision; null until decided.
ALTER TABLE applications ADD COLUMN working_days_to_decision BIGINT;
-- Whether the decision met its term (timing::on_time); null until decided.
ALTER TABLE applications ADD COLUMN decided_on_time BOOLEAN;
UPDATE applications SET status_since = updated_at;

-- One row per stage an application passed through (submit to accept, accept to assign, ...).
CREATE TABLE stage_timings (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    application_id VARCHAR(36) NOT NULL REFERENCES applications (id),
    provider_id VARCHAR(64) NOT NULL,
    service_key VARCHAR(64) NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    stage VARCHAR(64) NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP NOT NULL,
    minutes BIGINT NOT NULL,
    working_days BIGINT NOT NULL
);
CREATE INDEX stage_timings_by_provider ON stage_timings (provider_id, stage);
CREATE INDEX stage_timings_by_service ON stage_timings (service_key, stage);
CREATE INDEX applications_by_provider_submitted ON applications (provider_id, submitted_at);
