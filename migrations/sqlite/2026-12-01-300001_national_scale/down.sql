DROP INDEX events_by_provider;
DROP INDEX applications_by_stage_due;
DROP INDEX applications_by_provider_service;
DROP INDEX applications_by_provider_status;
DROP INDEX applications_by_assignee;
DROP INDEX applications_by_status;
DROP INDEX applications_by_service;
DROP TABLE law_generation;
