-- The benchmark's data generator (issue 11): loads :rows applications with their history and events
-- into a database whose schema the server's own migrations created. Runs inside PostgreSQL, set-based
-- (generate_series), deterministic for a given :rows and :now.
--
--   psql -v rows=1000000 -v now='2026-12-01 20:00:00' [-v from=1 -v to=100000] -f bench/generate.sql <db>
--
-- Rows :from..:to (default 1..:rows) of the :rows are loaded, in one transaction: run.sh loads in
-- chunks of 100,000, in order, so that WAL and temporary files stay small (each chunk continues the
-- registration numbers from the counters the previous one set). The last chunk runs VACUUM ANALYZE,
-- as autovacuum would have long since on a database that grew to this size: statistics for the
-- planner, and the visibility map that lets index-only scans (the open applications' deadlines)
-- skip the table.
-- The valid IINs are kept in bench_persons (UNLOGGED, made by the first chunk; run.sh drops it).
--
-- Expects `bench_services` (one row per passport version that accepts applications, built by run.sh
-- from GET /api/v1/services and /services/{key} in kk, ru and en; see catalog.jq): key, version,
-- channels, subtype, term value and unit, automation, weight, and the passport's own first result,
-- refusal ground, ground to refuse acceptance and document, already cited as the decision types of
-- domain/src/application/decision.rs serialise them (CitedResult, CitedGround, CitedDocument).
--
-- What is generated (distributions in bench/README.md):
-- - applications: filed over the :span_days days before :now, evenly in time (ids are UUIDv7 of the
--   filing moment, so id order is time order, as the server's own); services by weight, providers
--   astana 45 % / almaty 35 % / aktobe 20 % (the adoption agency accreditation at the committee),
--   channels the passport names (portal most often), every status of states.rs by age (old ones
--   mostly decided, recent ones mostly open, a small overdue backlog), due dates from the term on a
--   weekdays-only calendar (holidays are not skipped: close, not exact), decisions for decided,
--   refused-at-intake and preliminarily refused applications as the server writes them;
-- - application_history: the path to the status (submit, accept, assign, preliminary_refusal,
--   record_hearing, approve / refuse, refuse_intake, withdraw), 1-6 entries each, actors by role;
-- - events: one per history entry; counters: registration:<year> at the last number drawn;
-- - staff_members: emp-1..emp-10 and head-1 of every provider (assignees come from there).
-- Not generated: notifications, documents (signed results), complaints, access_log.

\set ON_ERROR_STOP on
\if :{?span_days}
\else
\set span_days 1065
\endif
\if :{?from}
\else
\set from 1
\set to :rows
\endif
-- Distinct applicants: as many as rows, up to 600000 (then some people file several applications).
SELECT least(:rows, 600000) AS people, :to >= :rows AS last_chunk, to_regclass('bench_persons') IS NULL AS need_persons \gset

SET synchronous_commit = off;
-- JIT compiles these big expressions for tens of seconds (LLVM), longer than running them.
SET jit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';

BEGIN;
-- Foreign keys are not checked row by row while loading (their triggers are off in replica mode); the
-- generated rows reference only what exists, which is checked once at the end.
SET LOCAL session_replication_role = replica;

-- A unit fraction [0, 1) and a bucket [0, m) from the row number and a salt.
CREATE OR REPLACE FUNCTION pg_temp.frac(i bigint, salt bigint) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (hashint8extended(i, salt) & 1048575)::float8 / 1048576 $$;
CREATE OR REPLACE FUNCTION pg_temp.bucket(i bigint, salt bigint, m bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (hashint8extended(i, salt) & 9223372036854775807) % m $$;

-- A UUIDv7 of moment t (ms since the epoch in the first 48 bits), the rest from the hash of (i, salt).
CREATE OR REPLACE FUNCTION pg_temp.uuid7(t timestamp, i bigint, salt bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substr(ms, 1, 8) || '-' || substr(ms, 9, 4) || '-7' || substr(r, 1, 3) || '-'
        || substr('89ab', 1 + (('x' || substr(r, 4, 1))::bit(4)::int % 4), 1) || substr(r, 5, 3) || '-' || substr(r, 8, 12)
    FROM (SELECT lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') AS ms,
                 md5(i::text || ':' || salt::text) AS r) x $$;

-- The 11-digit IIN prefix of person candidate p: born 1960-2009, either sex, a serial number.
CREATE OR REPLACE FUNCTION pg_temp.iin_prefix(p bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(date '1960-01-01' + (p % 18262)::int, 'YYMMDD')
        || (CASE WHEN p % 18262 >= 14610 THEN 5 ELSE 3 END + (p / 18262 % 2))::text
        || lpad((p / 36524 % 10000)::text, 4, '0') $$;

-- The n-th weekday after weekday d0 (d0 not counted); weekends skipped, holidays not.
CREATE OR REPLACE FUNCTION pg_temp.add_weekdays(d0 date, n int) RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT d0 + 7 * (n / 5) + (n % 5) + CASE WHEN extract(isodow FROM d0)::int + (n % 5) > 5 THEN 2 ELSE 0 END $$;

-- Local time (Asia/Almaty: UTC+6, UTC+5 from 2024-03-01) of a UTC moment, and back.
CREATE OR REPLACE FUNCTION pg_temp.offs(t timestamp) RETURNS interval LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t < timestamp '2024-02-29 18:00' THEN interval '6 hours' ELSE interval '5 hours' END $$;

-- Weekdays before d (from Monday 2001-01-01): weekdays in (a, b] = weekdays_before(b + 1) - weekdays_before(a + 1).
CREATE OR REPLACE FUNCTION pg_temp.weekdays_before(d date) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT 5 * ((d - date '2001-01-01') / 7) + least((d - date '2001-01-01') % 7, 5) $$;

CREATE OR REPLACE FUNCTION pg_temp.rfc3339(t timestamp) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- Services by cumulative weight.
CREATE TEMP TABLE svc AS
SELECT row_number() OVER (ORDER BY key) - 1 AS n, s.*,
       sum(weight) OVER (ORDER BY key) - weight AS w_from,
       sum(weight) OVER (ORDER BY key) AS w_to,
       string_to_array(channels, ',') AS chans
FROM bench_services s;

-- People with valid IINs (the check digit of identity.rs: weights 1..11 modulo 11, else 3..11,1,2; a
-- candidate whose second pass gives 10 too is never issued and is skipped). Applicants are persons
-- 0..:people-1, their children persons :people..2*:people-1 (:people: the rows, at most 600000).
\if :need_persons
CREATE UNLOGGED TABLE bench_persons AS
WITH candidate AS MATERIALIZED (
    SELECT c, pg_temp.iin_prefix(c) AS s, string_to_array(pg_temp.iin_prefix(c), NULL)::int[] AS d
    FROM generate_series(0, (2 * :people * 1.05)::bigint + 100) AS c
), checked AS MATERIALIZED (
    SELECT c, s,
           (d[1] + 2*d[2] + 3*d[3] + 4*d[4] + 5*d[5] + 6*d[6] + 7*d[7] + 8*d[8] + 9*d[9] + 10*d[10] + 11*d[11]) % 11 AS a,
           (3*d[1] + 4*d[2] + 5*d[3] + 6*d[4] + 7*d[5] + 8*d[6] + 9*d[7] + 10*d[8] + 11*d[9] + d[10] + 2*d[11]) % 11 AS b
    FROM candidate
)
SELECT row_number() OVER (ORDER BY c) - 1 AS p, s || CASE WHEN a <> 10 THEN a ELSE b END AS iin
FROM checked WHERE a <> 10 OR b <> 10;
CREATE UNIQUE INDEX ON bench_persons (p);
ANALYZE bench_persons;
SELECT count(*) >= 2 * :people AS enough_people FROM bench_persons \gset
\if :enough_people
\else
DO $$ BEGIN RAISE EXCEPTION 'too few valid IINs'; END $$;
\endif
\endif

-- One row per application with everything drawn: service, provider, channel, filer, status, moments.
CREATE TEMP TABLE gen AS
WITH base AS (
    SELECT i,
           (:'now'::timestamp - make_interval(days => :span_days))
             + make_interval(secs => (i - 1 + pg_temp.frac(i, 1) * 0.9) * (:span_days * 86400.0 / :rows)) AS submitted_at,
           pg_temp.bucket(i, 2, (SELECT max(w_to) FROM svc)) AS w,
           pg_temp.frac(i, 3) AS r_provider,
           pg_temp.frac(i, 4) AS r_channel,
           pg_temp.frac(i, 5) AS r_status,
           pg_temp.frac(i, 6) AS r_window,
           pg_temp.bucket(i, 7, :people) AS person,
           pg_temp.bucket(i, 8, 10) + 1 AS emp,
           pg_temp.bucket(i, 9, 20) + 1 AS op
    FROM generate_series(:from, :to) AS i
), drawn AS (
    SELECT b.*, s.key, s.version, s.subtype, s.term_value, s.term_unit, s.automated, s.result, s.ground,
           s.intake_ground, s.document,
           CASE WHEN s.key = 'adoption_agency_accreditation' THEN 'children-rights-committee'
                WHEN b.r_provider < 0.45 THEN 'astana-education'
                WHEN b.r_provider < 0.80 THEN 'almaty-education'
                ELSE 'aktobe-education' END AS provider_id,
           CASE WHEN 'portal' = ANY (s.chans) AND (b.r_channel < 0.55 OR cardinality(s.chans) = 1) THEN 'portal'
                ELSE (array_remove(s.chans, 'portal'))[1 + floor(b.r_channel * 1000)::int % greatest(cardinality(array_remove(s.chans, 'portal')), 1)]
           END AS channel,
           extract(epoch FROM (:'now'::timestamp - b.submitted_at)) / 86400 AS age_days
    FROM base b JOIN svc s ON b.w >= s.w_from AND b.w < s.w_to
), filed AS (
    SELECT d.*,
           pa.iin AS applicant_iin,
           pc.iin AS child_iin,
           CASE d.channel WHEN 'portal' THEN 'applicant' WHEN 'state_corporation' THEN 'operator' ELSE 'employee' END AS filed_by_role,
           CASE d.channel WHEN 'state_corporation' THEN CASE d.provider_id WHEN 'almaty-education' THEN 'gfc-almaty-1' ELSE 'gfc-astana-1' END
                WHEN 'portal' THEN NULL ELSE d.provider_id END AS intake_org_id,
           'emp-' || d.emp AS assignee_sub,
           -- The local filing moment; the term counts from it on a working day within 09:00-18:30,
           -- else from 09:00 of the next weekday (the portal's after-hours rule).
           d.submitted_at + pg_temp.offs(d.submitted_at) AS local_filed,
           -- Status by age: old applications are decided, recent ones open, a few stay overdue.
           CASE
             WHEN d.age_days < 2 THEN CASE WHEN d.r_status < 0.50 THEN 'submitted' WHEN d.r_status < 0.78 THEN 'accepted'
                  WHEN d.r_status < 0.93 THEN 'in_progress' WHEN d.r_status < 0.97 THEN 'refused_at_intake' ELSE 'withdrawn' END
             WHEN d.age_days < 10 THEN CASE WHEN d.r_status < 0.05 THEN 'submitted' WHEN d.r_status < 0.15 THEN 'accepted'
                  WHEN d.r_status < 0.50 THEN 'in_progress' WHEN d.r_status < 0.58 THEN 'preliminary_refusal'
                  WHEN d.r_status < 0.63 THEN 'hearing_held' WHEN d.r_status < 0.88 THEN 'approved'
                  WHEN d.r_status < 0.91 THEN 'refused' WHEN d.r_status < 0.96 THEN 'refused_at_intake' ELSE 'withdrawn' END
             ELSE CASE WHEN d.r_status < 0.70 THEN 'approved' WHEN d.r_status < 0.78 THEN 'refused'
                  WHEN d.r_status < 0.88 THEN 'refused_at_intake' WHEN d.r_status < 0.95 THEN 'withdrawn'
                  WHEN d.r_status < 0.955 THEN 'submitted' WHEN d.r_status < 0.96 THEN 'accepted'
                  WHEN d.r_status < 0.98 THEN 'in_progress' WHEN d.r_status < 0.99 THEN 'preliminary_refusal' ELSE 'hearing_held' END
           END AS status
    FROM drawn d
    JOIN bench_persons pa ON pa.p = d.person
    JOIN bench_persons pc ON pc.p = d.person + :people
), counted AS (
    SELECT f.*,
           CASE WHEN f.term_unit IN ('minutes', 'hours', 'working_hours', 'seconds') THEN f.local_filed
                WHEN extract(isodow FROM f.local_filed) <= 5 AND f.local_filed::time >= time '09:00' AND f.local_filed::time < time '18:30'
                  THEN f.local_filed
                WHEN extract(isodow FROM f.local_filed) <= 5 AND f.local_filed::time < time '09:00'
                  THEN f.local_filed::date + time '09:00'
                ELSE pg_temp.add_weekdays(f.local_filed::date, 1) + time '09:00' END AS local_counted
    FROM filed f
), due AS (
    SELECT c.*,
           CASE c.term_unit
             WHEN 'working_days' THEN pg_temp.add_weekdays(c.local_counted::date, c.term_value)
             WHEN 'calendar_days' THEN (SELECT CASE extract(isodow FROM x)::int WHEN 6 THEN x + 2 WHEN 7 THEN x + 1 ELSE x END
                                        FROM (SELECT c.local_counted::date + c.term_value AS x) y)
             ELSE (c.local_counted + make_interval(mins => c.term_value))::date END AS due_date
    FROM counted c
), moments AS (
    SELECT d.*,
           d.local_counted - pg_temp.offs(d.submitted_at) AS counted_from,
           CASE WHEN d.term_unit IN ('minutes', 'hours', 'working_hours', 'seconds')
                THEN d.submitted_at + make_interval(mins => CASE d.term_unit WHEN 'hours' THEN 60 * d.term_value
                     WHEN 'working_hours' THEN 60 * d.term_value ELSE d.term_value END)
                ELSE d.due_date + time '18:30' - pg_temp.offs(d.due_date::timestamp) END AS due_at
    FROM due d
)
SELECT m.*,
       -- The window the steps after filing fall in: up to the due moment (a few late), never after now.
       least(
         greatest(extract(epoch FROM (m.due_at - m.submitted_at)), 3600) * (0.25 + 0.85 * m.r_window),
         extract(epoch FROM (:'now'::timestamp - m.submitted_at)) * 0.95
       ) AS window_secs
FROM moments m;

-- The path of each status through the state table (states.rs), one entry per step after `submit`.
CREATE TEMP TABLE paths (status text, seq int, action text, to_status text, from_status text);
INSERT INTO paths VALUES
 ('accepted', 2, 'accept', 'accepted', 'submitted'),
 ('refused_at_intake', 2, 'refuse_intake', 'refused_at_intake', 'submitted'),
 ('in_progress', 2, 'accept', 'accepted', 'submitted'), ('in_progress', 3, 'assign', 'in_progress', 'accepted'),
 ('preliminary_refusal', 2, 'accept', 'accepted', 'submitted'), ('preliminary_refusal', 3, 'assign', 'in_progress', 'accepted'),
 ('preliminary_refusal', 4, 'preliminary_refusal', 'preliminary_refusal', 'in_progress'),
 ('hearing_held', 2, 'accept', 'accepted', 'submitted'), ('hearing_held', 3, 'assign', 'in_progress', 'accepted'),
 ('hearing_held', 4, 'preliminary_refusal', 'preliminary_refusal', 'in_progress'),
 ('hearing_held', 5, 'record_hearing', 'hearing_held', 'preliminary_refusal'),
 ('approved', 2, 'accept', 'accepted', 'submitted'), ('approved', 3, 'assign', 'in_progress', 'accepted'),
 ('approved', 4, 'approve', 'approved', 'in_progress'),
 ('refused', 2, 'accept', 'accepted', 'submitted'), ('refused', 3, 'assign', 'in_progress', 'accepted'),
 ('refused', 4, 'preliminary_refusal', 'preliminary_refusal', 'in_progress'),
 ('refused', 5, 'record_hearing', 'hearing_held', 'preliminary_refusal'),
 ('refused', 6, 'refuse', 'refused', 'hearing_held'),
 ('withdrawn', 2, 'withdraw', 'withdrawn', 'submitted');

CREATE TEMP TABLE steps AS
SELECT g.i, 1 AS seq, 'submit' AS action, 'submitted' AS to_status, NULL::text AS from_status, g.submitted_at AS at
FROM gen g
UNION ALL
SELECT g.i, p.seq, p.action, p.to_status, p.from_status,
       g.submitted_at + make_interval(secs => g.window_secs * (p.seq - 1) / (n.steps - 1)
                                              * (0.85 + 0.15 * pg_temp.frac(g.i * 8 + p.seq, 10)))
FROM gen g
JOIN paths p ON p.status = g.status
JOIN (SELECT status, max(seq) AS steps FROM paths GROUP BY status) n ON n.status = g.status;
CREATE INDEX ON steps (i, seq);
ANALYZE steps;

-- Per application: the moments of its steps, its version and the registration number of its year.
CREATE TEMP TABLE app AS
SELECT g.*,
       pg_temp.uuid7(g.submitted_at, g.i, 0) AS id,
       to_char(g.local_filed, 'YYYY') || '-' || lpad((coalesce((SELECT value FROM counters WHERE name = 'registration:' || to_char(g.local_filed, 'YYYY')), 0)
         + row_number() OVER (PARTITION BY to_char(g.local_filed, 'YYYY') ORDER BY g.i))::text, 6, '0') AS registration_number,
       s.last_at, s.versions,
       s.pre_at, s.hearing_held_at,
       -- Who acts: the filer at the counter, the provider's employee otherwise; the head assigns;
       -- the system for fully automated services.
       CASE WHEN g.automated THEN 'system' WHEN g.filed_by_role IN ('operator', 'employee') THEN
            CASE g.filed_by_role WHEN 'operator' THEN 'op-' || g.op ELSE 'emp-' || g.emp END
            ELSE 'emp-' || g.emp END AS intake_sub,
       CASE WHEN g.automated THEN 'system' WHEN g.filed_by_role = 'operator' THEN 'operator' ELSE 'employee' END AS intake_role
FROM gen g
JOIN (SELECT i, max(at) AS last_at, count(*) AS versions,
             max(at) FILTER (WHERE action = 'preliminary_refusal') AS pre_at,
             max(at) FILTER (WHERE action = 'record_hearing') AS hearing_held_at
      FROM steps GROUP BY i) s ON s.i = g.i
ORDER BY g.i;
DROP TABLE gen;
CREATE UNIQUE INDEX ON app (i);
ANALYZE app;

CREATE OR REPLACE FUNCTION pg_temp.official(sub text, role text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('sub', sub, 'role', role) $$;

-- The hearing as the decision carries it (decision.rs Hearing), held or only set.
CREATE OR REPLACE FUNCTION pg_temp.hearing(a app, held boolean) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('at', pg_temp.rfc3339(coalesce(a.hearing_held_at, a.pre_at + interval '1 day')),
                              'place', 'Кабинет 204, ' || a.provider_id)
        || CASE WHEN held THEN jsonb_build_object('held_at', pg_temp.rfc3339(a.hearing_held_at),
               'applicant_position', 'The applicant disagrees and brings the missing certificate.',
               'evidence', jsonb_build_array('certificate.pdf'),
               'recorded_by', pg_temp.official(a.assignee_sub, 'employee')) ELSE '{}'::jsonb END $$;

INSERT INTO applications (id, registration_number, service_key, passport_version, subtype, channel, status, applicant_iin,
    filed_by, filed_by_role, intake_org_id, provider_id, assignee, representative, form_data, submitted_at, counted_from,
    due_at, due_date, decided_at, row_version, created_at, updated_at, stage_due_at, hearing_at, hearing_place, decision)
SELECT a.id, a.registration_number, a.key, a.version, nullif(a.subtype, ''), a.channel, a.status, a.applicant_iin,
       CASE a.filed_by_role WHEN 'applicant' THEN a.applicant_iin WHEN 'operator' THEN 'op-' || a.op ELSE 'emp-' || a.emp END,
       a.filed_by_role, a.intake_org_id, a.provider_id,
       CASE WHEN a.status IN ('in_progress', 'preliminary_refusal', 'hearing_held', 'approved', 'refused')
            THEN CASE WHEN a.automated THEN 'system' ELSE a.assignee_sub END END,
       NULL,
       jsonb_build_object(
         'applicant', jsonb_build_object('iin', a.applicant_iin,
             'last_name', (ARRAY['Nurlanova','Akhmetov','Serikbayeva','Zhumabayev','Ospanova','Kassymov','Tokayeva','Abenov'])[1 + a.person % 8],
             'first_name', (ARRAY['Aliya','Serik','Aigerim','Yerlan','Dana','Nurlan','Madina','Arman'])[1 + a.person / 8 % 8]),
         'children', jsonb_build_array(jsonb_build_object('iin', a.child_iin, 'last_name', 'Nurlanov', 'first_name', 'Arman',
             'school', 'School-lyceum No ' || (1 + a.person % 90) || ', ' || initcap(split_part(a.provider_id, '-', 1)))),
         'personal_data_consent', true)::text,
       a.submitted_at, a.counted_from, a.due_at, a.due_date,
       CASE WHEN a.status IN ('approved', 'refused', 'refused_at_intake', 'withdrawn') THEN a.last_at END,
       a.versions, a.submitted_at, a.last_at,
       CASE WHEN a.hearing_held_at IS NOT NULL THEN a.hearing_held_at + interval '1 day' END,
       CASE WHEN a.pre_at IS NOT NULL THEN coalesce(a.hearing_held_at, a.pre_at + interval '1 day') END,
       CASE WHEN a.pre_at IS NOT NULL THEN 'Кабинет 204, ' || a.provider_id END,
       (CASE a.status
          WHEN 'refused_at_intake' THEN jsonb_build_object('outcome', 'refused_at_intake', 'kind', 'intake_refusal_receipt',
               'missing_documents', jsonb_build_array(a.document), 'expired_documents', '[]'::jsonb,
               'grounds', CASE WHEN a.intake_ground IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(a.intake_ground) END,
               'issued_by', pg_temp.official(a.intake_sub, CASE WHEN a.automated THEN 'employee' ELSE a.intake_role END),
               'issued_at', pg_temp.rfc3339(a.last_at))
          WHEN 'preliminary_refusal' THEN jsonb_build_object('outcome', 'preliminary_refusal', 'grounds', jsonb_build_array(a.ground),
               'hearing', pg_temp.hearing(a, false), 'notice_cutoff', to_char(a.due_date - 3, 'YYYY-MM-DD'),
               'decided_by', pg_temp.official(a.assignee_sub, 'employee'), 'decided_at', pg_temp.rfc3339(a.pre_at))
          WHEN 'hearing_held' THEN jsonb_build_object('outcome', 'preliminary_refusal', 'grounds', jsonb_build_array(a.ground),
               'hearing', pg_temp.hearing(a, true), 'notice_cutoff', to_char(a.due_date - 3, 'YYYY-MM-DD'),
               'decided_by', pg_temp.official(a.assignee_sub, 'employee'), 'decided_at', pg_temp.rfc3339(a.pre_at))
          WHEN 'approved' THEN jsonb_build_object('outcome', 'approved', 'result', a.result,
               'decided_by', CASE WHEN a.automated THEN pg_temp.official('system', 'system') ELSE pg_temp.official(a.assignee_sub, 'employee') END,
               'decided_at', pg_temp.rfc3339(a.last_at), 'on_time', a.last_at <= a.due_at)
          WHEN 'refused' THEN jsonb_build_object('outcome', 'refused', 'grounds', jsonb_build_array(a.ground),
               'motivation', 'The documents do not confirm the right to the service.', 'hearing', pg_temp.hearing(a, true),
               'decided_by', pg_temp.official(a.assignee_sub, 'employee'), 'decided_at', pg_temp.rfc3339(a.last_at),
               'on_time', a.last_at <= least(a.due_at, a.hearing_held_at + interval '1 day'))
        END)::text
FROM app a;

-- What the history and the events need of each application (narrow: sorted by time below).
CREATE TEMP TABLE actor AS
SELECT i, id, registration_number, provider_id, intake_org_id, applicant_iin, filed_by_role, op, emp, automated, intake_sub, intake_role,
       assignee_sub, version, due_at, due_date, term_value, term_unit
FROM app;
DROP TABLE app CASCADE; -- and pg_temp.hearing(app, ...)
CREATE UNIQUE INDEX ON actor (i);
ANALYZE actor;

INSERT INTO application_history (id, application_id, seq, at, actor_sub, actor_role, action, from_status, to_status, reason, changes)
SELECT pg_temp.uuid7(x.at, x.i * 8 + x.seq, 11), x.id, x.seq, x.at,
       CASE x.action
         WHEN 'submit' THEN CASE x.filed_by_role WHEN 'applicant' THEN x.applicant_iin WHEN 'operator' THEN 'op-' || x.op ELSE 'emp-' || x.emp END
         WHEN 'withdraw' THEN x.applicant_iin
         WHEN 'accept' THEN x.intake_sub WHEN 'refuse_intake' THEN CASE WHEN x.automated THEN 'emp-' || x.emp ELSE x.intake_sub END
         WHEN 'assign' THEN CASE WHEN x.automated THEN 'system' ELSE 'head-1' END
         ELSE CASE WHEN x.automated AND x.action = 'approve' THEN 'system' ELSE x.assignee_sub END END,
       CASE x.action
         WHEN 'submit' THEN x.filed_by_role
         WHEN 'withdraw' THEN 'applicant'
         WHEN 'accept' THEN x.intake_role WHEN 'refuse_intake' THEN CASE WHEN x.automated THEN 'employee' ELSE x.intake_role END
         WHEN 'assign' THEN CASE WHEN x.automated THEN 'system' ELSE 'head' END
         ELSE CASE WHEN x.automated AND x.action = 'approve' THEN 'system' ELSE 'employee' END END,
       x.action, x.from_status, x.to_status,
       CASE x.action WHEN 'withdraw' THEN 'No longer needed.' WHEN 'refuse' THEN 'The documents do not confirm the right to the service.' END,
       (jsonb_build_object('status', jsonb_build_object('old', x.from_status, 'new', x.to_status))
        || CASE x.action
             WHEN 'submit' THEN jsonb_build_object(
                 'passport_version', jsonb_build_object('old', NULL, 'new', x.version),
                 'due_at', jsonb_build_object('old', NULL, 'new', pg_temp.rfc3339(x.due_at)),
                 'due_date', jsonb_build_object('old', NULL, 'new', to_char(x.due_date, 'YYYY-MM-DD')),
                 'term', jsonb_build_object('old', NULL, 'new', jsonb_build_object('code', 'service_term', 'value', x.term_value, 'unit', x.term_unit)))
             WHEN 'assign' THEN jsonb_build_object('assignee', jsonb_build_object('old', NULL,
                 'new', CASE WHEN x.automated THEN 'system' ELSE x.assignee_sub END))
             WHEN 'record_hearing' THEN jsonb_build_object('stage_due_at', jsonb_build_object('old', NULL, 'new', pg_temp.rfc3339(x.at + interval '1 day')))
             ELSE '{}'::jsonb END)::text
-- In the order they happened (as the server appends them), sorted before the JSON is built.
FROM (SELECT s.seq, s.action, s.to_status, s.from_status, s.at, a.*
      FROM steps s JOIN actor a ON a.i = s.i ORDER BY s.at, s.i, s.seq OFFSET 0) x;

INSERT INTO events (occurred_at, kind, application_id, provider_id, applicant_iin, payload)
SELECT x.at, 'application.' || x.action, x.id, x.provider_id, x.applicant_iin,
       jsonb_build_object('registration_number', x.registration_number, 'status', x.to_status, 'version', x.seq)::text
FROM (SELECT s.seq, s.action, s.to_status, s.at, a.id, a.provider_id, a.applicant_iin, a.registration_number
      FROM steps s JOIN actor a ON a.i = s.i ORDER BY s.at, s.i, s.seq OFFSET 0) x;

-- The measured stages each application passed through (timing.rs MEASURED_STAGES), as the server
-- records them when a move ends one: minutes elapsed, working days after the start day up to the end day.
INSERT INTO stage_timings (application_id, provider_id, service_key, submitted_at, stage, started_at, ended_at, minutes, working_days)
SELECT ap.id, ap.provider_id, ap.service_key, ap.submitted_at, m.stage, s1.at, s2.at,
       floor(extract(epoch FROM (s2.at - s1.at)) / 60)::bigint,
       pg_temp.weekdays_before((s2.at + pg_temp.offs(s2.at))::date + 1) - pg_temp.weekdays_before((s1.at + pg_temp.offs(s1.at))::date + 1)
FROM steps s1
JOIN steps s2 ON s2.i = s1.i AND s2.seq = s1.seq + 1
JOIN (VALUES ('submitted', 'accepted', 'submit_to_accept'), ('submitted', 'refused_at_intake', 'submit_to_accept'),
             ('accepted', 'in_progress', 'accept_to_assign'), ('in_progress', 'approved', 'assign_to_decision'),
             ('in_progress', 'preliminary_refusal', 'assign_to_decision'), ('in_progress', 'refused', 'assign_to_decision'),
             ('preliminary_refusal', 'hearing_held', 'preliminary_refusal_to_hearing'),
             ('hearing_held', 'approved', 'hearing_to_final'), ('hearing_held', 'refused', 'hearing_to_final')) m (from_status, to_status, stage)
  ON m.from_status = s1.to_status AND m.to_status = s2.to_status
JOIN actor a ON a.i = s1.i
JOIN applications ap ON ap.id = a.id;

-- The monitoring counts the server's triggers keep (migration monitoring_counts; triggers do not
-- fire in the replica role): this chunk's applications and stages, added to the earlier chunks'.
INSERT INTO monitoring_counts
SELECT ap.provider_id, to_char(ap.submitted_at, 'YYYY-MM'), ap.service_key, ap.passport_version, ap.channel, coalesce(ap.subtype, ''),
       ap.status, count(*), sum(CASE WHEN ap.decided_on_time THEN 1 ELSE 0 END), coalesce(sum(ap.working_days_to_decision), 0),
       coalesce(sum(ap.term_working_days), 0)
FROM actor a JOIN applications ap ON ap.id = a.id GROUP BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (provider_id, filed_month, service_key, passport_version, channel, subtype, status) DO UPDATE SET
    applications = monitoring_counts.applications + excluded.applications,
    decided_on_time = monitoring_counts.decided_on_time + excluded.decided_on_time,
    working_days_to_decision = monitoring_counts.working_days_to_decision + excluded.working_days_to_decision,
    term_working_days = monitoring_counts.term_working_days + excluded.term_working_days;
INSERT INTO stage_counts
SELECT t.provider_id, to_char(t.submitted_at, 'YYYY-MM'), t.service_key, t.stage, count(*), sum(t.working_days), sum(t.minutes)
FROM actor a JOIN stage_timings t ON t.application_id = a.id GROUP BY 1, 2, 3, 4
ON CONFLICT (provider_id, filed_month, service_key, stage) DO UPDATE SET
    samples = stage_counts.samples + excluded.samples,
    working_days = stage_counts.working_days + excluded.working_days,
    minutes = stage_counts.minutes + excluded.minutes;

-- The server draws the next registration number from these counters: continue after the generated ones.
INSERT INTO counters (name, value)
SELECT 'registration:' || split_part(registration_number, '-', 1), max(split_part(registration_number, '-', 2)::bigint)
FROM actor GROUP BY 1
ON CONFLICT (name) DO UPDATE SET value = greatest(counters.value, excluded.value);

INSERT INTO staff_members (org_id, sub, role, full_name, active, created_at, updated_at, updated_by)
SELECT o.id, s.sub, s.role, s.full_name, true, :'now'::timestamp, :'now'::timestamp, 'bench'
FROM organizations o
CROSS JOIN (SELECT 'emp-' || k AS sub, 'employee' AS role, 'Employee ' || k AS full_name FROM generate_series(1, 10) k
            UNION ALL SELECT 'head-1', 'head', 'Head of the provider') s
WHERE o.kind = 'provider'
ON CONFLICT DO NOTHING;

-- The references the foreign keys would have checked: every provider and intake centre exists.
SELECT count(*) = 0 AS references_hold FROM actor a
 WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = a.provider_id)
    OR (a.intake_org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = a.intake_org_id)) \gset
\if :references_hold
\else
DO $$ BEGIN RAISE EXCEPTION 'a generated application names an organisation that does not exist'; END $$;
\endif
DROP TABLE steps;
DROP TABLE actor;
SET LOCAL session_replication_role = origin;

COMMIT;

\if :last_chunk
VACUUM (ANALYZE);
\endif
