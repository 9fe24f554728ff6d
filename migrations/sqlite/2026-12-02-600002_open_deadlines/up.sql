-- The open applications by their deadlines (issue 11): monitoring's overdue and at-risk lists and
-- counts, and the list filter `overdue=true`, read only the applications whose term still runs.
--
-- The predicate is the final statuses of domain/src/application/states.rs, spelled exactly as
-- `persistence::applications::OPEN` states it in the queries (persistence/src/applications.rs tests
-- the two agree). SQLite indexes have no INCLUDE: the columns the filters test follow the key.
-- backend-specific: begin
CREATE INDEX applications_open_by_provider_due ON applications (provider_id, due_at, stage_due_at, due_date)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn');
CREATE INDEX applications_open_by_due ON applications (due_at, provider_id, stage_due_at, due_date)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn');
-- The few in a hearing's stage, by the stage's own deadline (overdue when either ends).
CREATE INDEX applications_open_by_provider_stage_due ON applications (provider_id, stage_due_at, due_at)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn') AND stage_due_at IS NOT NULL;
CREATE INDEX applications_open_by_stage_due ON applications (stage_due_at, provider_id, due_at)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn') AND stage_due_at IS NOT NULL;
-- backend-specific: end
