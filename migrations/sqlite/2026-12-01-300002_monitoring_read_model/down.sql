DROP INDEX applications_by_provider_submitted;
DROP TABLE stage_timings;
ALTER TABLE applications DROP COLUMN decided_on_time;
ALTER TABLE applications DROP COLUMN working_days_to_decision;
ALTER TABLE applications DROP COLUMN term_working_days;
ALTER TABLE applications DROP COLUMN status_since;
