-- Lists filtered within a provider, newest first (issue 11: an index for every list filter): keyed
-- as the keyset pagination reads them, the filter then the id, so that a page is a range, not a
-- sort of the provider's whole file. They replace national-scale indexes ending in the due moment
-- and the status, which served deadline queries that the open applications' partial indexes now
-- serve (open_deadlines), as they do those of the two dropped outright: every index costs every
-- filing a write.
DROP INDEX applications_by_provider_status;
DROP INDEX applications_by_provider_service;
DROP INDEX applications_by_status_due;
DROP INDEX applications_by_stage_due;
CREATE INDEX applications_by_provider_status ON applications (provider_id, status, id);
CREATE INDEX applications_by_provider_service ON applications (provider_id, service_key, id);
