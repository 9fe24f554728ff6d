DROP INDEX applications_by_provider_service;
DROP INDEX applications_by_provider_status;
CREATE INDEX applications_by_stage_due ON applications (stage_due_at);
CREATE INDEX applications_by_status_due ON applications (status, due_at);
CREATE INDEX applications_by_provider_service ON applications (provider_id, service_key, status);
CREATE INDEX applications_by_provider_status ON applications (provider_id, status, due_at);
