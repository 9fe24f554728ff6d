-- The open applications by their deadlines (issue 11): monitoring's overdue and at-risk lists and
-- counts, and the list filter `overdue=true`, read only the applications whose term still runs
-- (a few percent of a million), in due order, from indexes that carry what the filters test.
--
-- The predicate is the final statuses of domain/src/application/states.rs, spelled exactly as
-- `persistence::applications::OPEN` states it in the queries: the planner uses a partial index only
-- for a query that says the same (persistence/src/applications.rs tests the two agree).
-- backend-specific: begin
CREATE INDEX applications_open_by_provider_due ON applications (provider_id, due_at) INCLUDE (stage_due_at, due_date)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn');
CREATE INDEX applications_open_by_due ON applications (due_at) INCLUDE (provider_id, stage_due_at, due_date)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn');
-- The few in a hearing's stage, by the stage's own deadline (overdue when either ends).
CREATE INDEX applications_open_by_provider_stage_due ON applications (provider_id, stage_due_at) INCLUDE (due_at)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn') AND stage_due_at IS NOT NULL;
CREATE INDEX applications_open_by_stage_due ON applications (stage_due_at) INCLUDE (provider_id, due_at)
    WHERE status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn') AND stage_due_at IS NOT NULL;
-- backend-specific: end
