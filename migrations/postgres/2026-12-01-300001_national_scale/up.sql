-- National scale (issue 11): the generation of the law's data that every instance watches, and the
-- indexes every list filter and the monitoring view use.

-- Bumped in the same transaction as every administrator's change of the law's data (a published
-- passport version, a calendar year). Instances compare it with the generation they loaded and
-- reload when it moved; the update's row lock serialises administrators' changes across instances.
CREATE TABLE law_generation (
    id INTEGER PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO law_generation (id, generation) VALUES (1, 0);

CREATE INDEX applications_by_service ON applications (service_key, id);
CREATE INDEX applications_by_status ON applications (status, id);
CREATE INDEX applications_by_assignee ON applications (assignee, id);
CREATE INDEX applications_by_provider_status ON applications (provider_id, status, due_at);
CREATE INDEX applications_by_provider_service ON applications (provider_id, service_key, status);
CREATE INDEX applications_by_stage_due ON applications (stage_due_at);
CREATE INDEX events_by_provider ON events (provider_id, id);
