-- The database alone doing a list page's work as the server sends it (informational): one
-- statement that reads the provider's newest 21 applications (a page of 20 and whether more
-- follow, persistence::applications::list) and writes one journal entry for each of the 20 shown
-- (persistence::access_log::Journaled), committed on its own, prepared (-M prepared), in the
-- session settings of the server's read pool (as read_by_id_served.sql).
WITH rows_read AS (SELECT * FROM applications WHERE provider_id = :provider ORDER BY id DESC LIMIT 21),
entries AS (INSERT INTO access_log (at, actor_sub, actor_role, actor_org, kind, resource_id, application_id,
        subject_iin, request_id)
    SELECT now()::timestamp, 'emp-1', 'employee', :provider, 'application', rows_read.id, rows_read.id,
        rows_read.applicant_iin, gen_random_uuid()::text
    FROM rows_read ORDER BY rows_read.id DESC LIMIT 20)
SELECT * FROM rows_read ORDER BY id DESC;
