-- Two copies of applications with every index of the migrations: ids as text (today) and as uuid,
-- the form as text (today) and as jsonb; the same rows.
SET jit = off;
DROP TABLE IF EXISTS exp_text, exp_native;
CREATE TABLE exp_text (LIKE applications INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE exp_native (LIKE applications INCLUDING DEFAULTS INCLUDING INDEXES);
ALTER TABLE exp_native ALTER id TYPE uuid USING id::uuid, ALTER form_data TYPE jsonb USING form_data::jsonb,
    ALTER decision TYPE jsonb USING decision::jsonb, ALTER representative TYPE jsonb USING representative::jsonb;
INSERT INTO exp_text SELECT * FROM applications WHERE id ~ '^[0-9a-f-]{36}$';
INSERT INTO exp_native SELECT id::uuid, registration_number, service_key, passport_version, subtype, channel, status,
    applicant_iin, filed_by, filed_by_role, intake_org_id, provider_id, assignee, representative::jsonb, form_data::jsonb,
    submitted_at, counted_from, due_at, due_date, decided_at, row_version, created_at, updated_at, stage_due_at,
    hearing_at, hearing_place, decision::jsonb, status_since, term_working_days, working_days_to_decision, decided_on_time
  FROM applications WHERE id ~ '^[0-9a-f-]{36}$';
VACUUM ANALYZE exp_text;
VACUUM ANALYZE exp_native;
DROP TABLE IF EXISTS exp_ids;
CREATE TABLE exp_ids AS SELECT row_number() OVER () AS n, id FROM (SELECT id FROM exp_text ORDER BY random() LIMIT 100000) x;
CREATE UNIQUE INDEX ON exp_ids (n);
