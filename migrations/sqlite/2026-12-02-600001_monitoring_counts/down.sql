DROP INDEX applications_by_submitted;
DROP INDEX stage_timings_by_submitted;
DROP INDEX stage_timings_by_provider_submitted;
CREATE INDEX stage_timings_by_provider ON stage_timings (provider_id, stage);
CREATE INDEX stage_timings_by_service ON stage_timings (service_key, stage);
-- backend-specific: begin
DROP TRIGGER stage_timings_counted_on_delete;
DROP TRIGGER stage_timings_counted_on_insert;
DROP TRIGGER applications_counted_on_update;
DROP TRIGGER applications_counted_on_delete;
DROP TRIGGER applications_counted_on_insert;
-- backend-specific: end
DROP TABLE stage_count_changes;
DROP TABLE stage_counts;
DROP TABLE monitoring_count_changes;
DROP TABLE monitoring_counts;
