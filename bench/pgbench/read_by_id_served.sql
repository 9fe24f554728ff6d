-- The database alone doing a read by id's work as the server sends it (informational): one
-- statement that reads the row by primary key and writes the read's entry in the access journal
-- when the row is the caller's provider's (persistence::access_log::Journaled, api/src/access.rs),
-- committed on its own, prepared (run with -M prepared, as diesel prepares it), in a session set as
-- the server's read pool sets its own (run.sh: PGOPTIONS, jit off, the journal's commit
-- asynchronous unless the server runs with ACCESS_LOG_DURABLE=true). The id is drawn as in
-- select_by_id.sql, in the same statement; the server is sent it in the path.
\set n random(1, :count)
WITH rows_read AS (SELECT a.* FROM bench_ids b JOIN applications a ON a.id = b.id WHERE b.n = :n),
entries AS (INSERT INTO access_log (at, actor_sub, actor_role, actor_org, kind, resource_id, application_id,
        subject_iin, request_id)
    SELECT now()::timestamp, 'emp-1', 'employee', 'astana-education', 'application', rows_read.id, rows_read.id,
        rows_read.applicant_iin, gen_random_uuid()::text
    FROM rows_read WHERE rows_read.provider_id = 'astana-education' ORDER BY rows_read.id DESC LIMIT 1)
SELECT * FROM rows_read ORDER BY id DESC;
