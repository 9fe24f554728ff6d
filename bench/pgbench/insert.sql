-- The write ceiling: one single-row INSERT of a row like the one a portal filing stores, into
-- bench_insert (run.sh: CREATE TABLE bench_insert (LIKE applications INCLUDING DEFAULTS), no indexes,
-- no constraints), one transaction each, committed as the server's are (synchronous_commit on).
INSERT INTO bench_insert (id, registration_number, service_key, passport_version, subtype, channel, status,
    applicant_iin, filed_by, filed_by_role, intake_org_id, provider_id, assignee, representative, form_data,
    submitted_at, counted_from, due_at, due_date, decided_at, row_version, created_at, updated_at,
    stage_due_at, hearing_at, hearing_place, decision)
VALUES (gen_random_uuid()::text, 'B-' || (random() * 1e9)::bigint, 'free_school_meals', 'order-414-2022', NULL,
    'portal', 'submitted', '900101300116', '900101300116', 'applicant', NULL, 'astana-education', NULL, NULL,
    '{"applicant":{"first_name":"Aliya","iin":"900101300116","last_name":"Nurlanova"},"child_category":"targeted_social_assistance","children":[{"first_name":"Arman","iin":"150312500019","last_name":"Nurlanov","school":"School-lyceum No 65, Astana"}],"personal_data_consent":true}',
    now()::timestamp, now()::timestamp, now()::timestamp + interval '7 days', current_date + 7, NULL, 1,
    now()::timestamp, now()::timestamp, NULL, NULL, NULL, NULL);
