-- The monitoring ceiling: the figures the view starts from (applications by status, the open ones
-- past their term) for one provider, as SQL aggregates over the indexes the schema has today.
SELECT status, count(*) FROM applications WHERE provider_id = 'astana-education' GROUP BY status;
SELECT count(*) FROM applications
 WHERE provider_id = 'astana-education'
   AND status NOT IN ('refused_at_intake', 'approved', 'refused', 'withdrawn')
   AND least(due_at, coalesce(stage_due_at, due_at)) < now()::timestamp;
