-- The monitoring ceiling: the figures the view starts from (applications by status, the open ones
-- past their term) for one provider, as SQL aggregates over an index that serves them: bench_agg is
-- a copy of those columns of applications with an index on (provider_id, status, due_at,
-- stage_due_at) (run.sh), so these are index-only scans over the same rows the server reads.
SELECT status, count(*) FROM bench_agg WHERE provider_id = 'astana-education' GROUP BY status;
SELECT count(*) FROM bench_agg
 WHERE provider_id = 'astana-education'
   AND status IN ('submitted', 'accepted', 'in_progress', 'preliminary_refusal', 'hearing_held')
   AND least(due_at, coalesce(stage_due_at, due_at)) < now()::timestamp;
