\set r random(1, 1000000000)
INSERT INTO exp_native (id, registration_number, service_key, passport_version, channel, status, applicant_iin, filed_by,
    filed_by_role, provider_id, form_data, submitted_at, counted_from, due_at, due_date, row_version, created_at,
    updated_at, status_since, term_working_days)
VALUES (gen_random_uuid()::text::uuid, 'X-' || :client_id || '-' || :r, 'free_school_meals', 'order-414-2022', 'portal',
    'submitted', '900101300116', '900101300116', 'applicant', 'astana-education', '{"applicant":{"first_name":"Aliya","iin":"900101300116","last_name":"Nurlanova"},"child_category":"targeted_social_assistance","children":[{"first_name":"Arman","iin":"150312500019","last_name":"Nurlanov","school":"School-lyceum No 65, Astana"}],"personal_data_consent":true}', now()::timestamp,
    now()::timestamp, now()::timestamp + interval '7 days', current_date + 7, 1, now()::timestamp, now()::timestamp,
    now()::timestamp, 5);
