DROP INDEX applications_by_submitted;
DROP INDEX stage_timings_by_submitted;
DROP INDEX stage_timings_by_provider_submitted;
CREATE INDEX stage_timings_by_provider ON stage_timings (provider_id, stage);
CREATE INDEX stage_timings_by_service ON stage_timings (service_key, stage);
-- backend-specific: begin
DROP TRIGGER stage_timings_counted ON stage_timings;
DROP FUNCTION stage_timings_counted();
DROP TRIGGER applications_counted_on_update ON applications;
DROP TRIGGER applications_counted_on_insert_or_delete ON applications;
DROP FUNCTION applications_counted();
DROP FUNCTION monitoring_count_change(applications, BIGINT);
-- backend-specific: end
DROP TABLE stage_count_changes;
DROP TABLE stage_counts;
DROP TABLE monitoring_count_changes;
DROP TABLE monitoring_counts;
