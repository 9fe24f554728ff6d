-- The database alone doing a list page's work as the server sends it (informational): the provider's
-- newest 21 applications (a page of 20 and whether more follow, persistence::applications::list),
-- then one journal entry per listed application in one statement (persistence::access_log::record_all,
-- one array per column), each committed on its own, prepared (-M prepared), in the session settings
-- of the server's read pool (as read_by_id_served.sql). The page's ids and
-- applicants are the first page's, read by run.sh before the run (-D ids=... -D iins=...), as the
-- server's page is the same first page on every request.
SELECT * FROM applications WHERE provider_id = :provider ORDER BY id DESC LIMIT 21;
INSERT INTO access_log (at, actor_sub, actor_role, actor_org, kind, resource_id, application_id, subject_iin,
    request_id)
SELECT * FROM unnest(array_fill(now()::timestamp, ARRAY[20]), array_fill('emp-1'::text, ARRAY[20]),
    array_fill('employee'::text, ARRAY[20]), array_fill(:provider::text, ARRAY[20]),
    array_fill('application'::text, ARRAY[20]), :ids::text[], :ids::text[], :iins::text[],
    array_fill(gen_random_uuid()::text, ARRAY[20]));
