-- The cheapest form a filing's writes can take on PostgreSQL, for reference: the application (its
-- registration number drawn in the same statement), its first history entry, the applicant's notice
-- and the event, with the live subscriptions read for the fan-out, as ONE statement committed on its
-- own (no advisory lock, no generation read). What no server that writes a filing atomically, with
-- its history and event, can beat on this machine; compare with insert.sql (one row, no indexes).
\set r random(1, 1000000000000000)
WITH w0 AS (INSERT INTO applications (id, registration_number, service_key, passport_version, channel, status,
        applicant_iin, filed_by, filed_by_role, provider_id, form_data, submitted_at, counted_from, due_at, due_date,
        row_version, created_at, updated_at, status_since, term_working_days)
    VALUES ('pgbench-one-' || :client_id || '-' || :r, :year || '-' || lpad(nextval(to_regclass('registration_' || :year))::text, 6, '0'), 'free_school_meals', 'order-414-2022', 'portal', 'submitted',
        '900101300116', '900101300116', 'applicant', 'astana-education',
        '{"applicant":{"first_name":"Aliya","iin":"900101300116","last_name":"Nurlanova"},"child_category":"targeted_social_assistance","children":[{"first_name":"Arman","iin":"150312500019","last_name":"Nurlanov","school":"School-lyceum No 65, Astana"}],"personal_data_consent":true}',
        now()::timestamp, now()::timestamp, now()::timestamp + interval '7 days', current_date + 7,
        1, now()::timestamp, now()::timestamp, now()::timestamp, 5)),
w1 AS (INSERT INTO application_history (id, application_id, seq, at, actor_sub, actor_role, action, to_status, changes)
    VALUES ('h-' || 'pgbench-one-' || :client_id || '-' || :r, 'pgbench-one-' || :client_id || '-' || :r, 1, now()::timestamp, '900101300116', 'applicant', 'submit', 'submitted',
        '{"due_at":{"new":"2026-12-09T13:30:00Z","old":null},"due_date":{"new":"2026-12-09","old":null},"passport_version":{"new":"order-414-2022","old":null},"status":{"new":"submitted","old":null},"term":{"new":{"code":"service_term","source":"004:4285-4293 | Order 414, Appendix 17, row 3, subparagraph 1","unit":"working_days","value":5},"old":null}}')),
w2 AS (INSERT INTO notifications (id, recipient_iin, application_id, kind, text_kk, text_ru, text_en, created_at)
    VALUES ('n-' || 'pgbench-one-' || :client_id || '-' || :r, '900101300116', 'pgbench-one-' || :client_id || '-' || :r, 'status.submitted', '№ 2026-000001 өтініш: өтініш берілді.',
        'Заявление № 2026-000001: заявление подано.', 'Application No 2026-000001 has been submitted.', now()::timestamp)),
event AS (INSERT INTO events (occurred_at, kind, application_id, provider_id, applicant_iin, payload, service_key)
    VALUES (now()::timestamp, 'application.submit', 'pgbench-one-' || :client_id || '-' || :r, 'astana-education', '900101300116',
        '{"registration_number":"2026-000001","status":"submitted","version":1}', 'free_school_meals') RETURNING id)
SELECT event.id AS event_id, s.id AS subscription_id, s.filter AS filter
  FROM event LEFT JOIN subscriptions s ON s.deleted_at IS NULL ORDER BY s.id;
