-- The database alone doing a read by id's work as the server sends it (informational): the row by
-- primary key, then the read's entry in the access journal (api/src/access.rs), each statement on
-- its own and committed on its own, prepared (run with -M prepared, as diesel prepares them), in a
-- session set as the server's read pool sets its own (run.sh: PGOPTIONS, jit off, the journal's
-- commit asynchronous unless the server runs with ACCESS_LOG_DURABLE=true). The id
-- is drawn as in select_by_id.sql, in the same statement; the server is sent it in the path.
\set n random(1, :count)
SELECT a.* FROM bench_ids b JOIN applications a ON a.id = b.id WHERE b.n = :n \gset r_
INSERT INTO access_log (at, actor_sub, actor_role, actor_org, kind, resource_id, application_id, subject_iin,
    request_id)
VALUES (now()::timestamp, 'emp-1', 'employee', 'astana-education', 'application', :r_id, :r_id, :r_applicant_iin,
    gen_random_uuid()::text);
