-- Foundation schema (PostgreSQL). Kept column-for-column identical to the SQLite migration of the same
-- name: timestamps are UTC (TIMESTAMP, no zone), identifiers are UUID text, JSON is kept as TEXT.

-- Providers (услугодатели), State Corporation centres and the complaint review body.
CREATE TABLE organizations (
    id VARCHAR(64) PRIMARY KEY NOT NULL,
    kind VARCHAR(32) NOT NULL,
    region VARCHAR(64),
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE applications (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    registration_number VARCHAR(32) NOT NULL UNIQUE,
    service_key VARCHAR(64) NOT NULL,
    passport_version VARCHAR(64) NOT NULL,
    subtype VARCHAR(64),
    channel VARCHAR(32) NOT NULL,
    status VARCHAR(32) NOT NULL,
    applicant_iin VARCHAR(12) NOT NULL,
    filed_by VARCHAR(64) NOT NULL,
    filed_by_role VARCHAR(16) NOT NULL,
    intake_org_id VARCHAR(64) REFERENCES organizations (id),
    provider_id VARCHAR(64) NOT NULL REFERENCES organizations (id),
    assignee VARCHAR(64),
    representative TEXT,
    form_data TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    counted_from TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    due_date DATE NOT NULL,
    decided_at TIMESTAMP,
    row_version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX applications_by_applicant ON applications (applicant_iin, id);
CREATE INDEX applications_by_provider ON applications (provider_id, id);
CREATE INDEX applications_by_intake_org ON applications (intake_org_id, id);
CREATE INDEX applications_by_status_due ON applications (status, due_at);

-- Every change to an application, written in the same transaction as the change.
CREATE TABLE application_history (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    application_id VARCHAR(36) NOT NULL REFERENCES applications (id),
    seq BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_sub VARCHAR(64) NOT NULL,
    actor_role VARCHAR(16) NOT NULL,
    action VARCHAR(64) NOT NULL,
    from_status VARCHAR(32),
    to_status VARCHAR(32),
    reason TEXT,
    changes TEXT NOT NULL,
    UNIQUE (application_id, seq)
);

-- Idempotency-Key records: the same key and body from the same caller returns the first result.
CREATE TABLE idempotency_keys (
    principal VARCHAR(64) NOT NULL,
    idem_key VARCHAR(255) NOT NULL,
    request_hash VARCHAR(64) NOT NULL,
    resource_type VARCHAR(32) NOT NULL,
    resource_id VARCHAR(36) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, idem_key)
);

-- Named sequences (registration numbers per year), portable across both backends.
CREATE TABLE counters (
    name VARCHAR(64) PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

-- The event feed for integrators: append-only, read by position.
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    kind VARCHAR(64) NOT NULL,
    application_id VARCHAR(36) NOT NULL,
    provider_id VARCHAR(64) NOT NULL,
    applicant_iin VARCHAR(12) NOT NULL,
    payload TEXT NOT NULL
);

INSERT INTO organizations (id, kind, region, name_kk, name_ru, name_en) VALUES
 ('astana-education', 'provider', 'astana', 'Астана қаласының білім басқармасы', 'Управление образования города Астаны', 'Astana City Education Department'),
 ('almaty-education', 'provider', 'almaty', 'Алматы қаласының білім басқармасы', 'Управление образования города Алматы', 'Almaty City Education Department'),
 ('aktobe-education', 'provider', 'aktobe', 'Ақтөбе облысының білім басқармасы', 'Управление образования Актюбинской области', 'Aktobe Region Education Department'),
 ('children-rights-committee', 'provider', NULL, 'ҚР Оқу-ағарту министрлігінің Балалардың құқықтарын қорғау комитеті', 'Комитет по охране прав детей Министерства просвещения РК', 'Committee for the Protection of Children''s Rights, Ministry of Enlightenment'),
 ('gfc-astana-1', 'state_corporation', 'astana', '"Азаматтарға арналған үкімет" МК Астана қаласы бойынша №1 ХҚКО', 'ЦОН №1 НАО "Правительство для граждан" по г. Астане', 'State Corporation service centre No 1, Astana'),
 ('gfc-almaty-1', 'state_corporation', 'almaty', '"Азаматтарға арналған үкімет" МК Алматы қаласы бойынша №1 ХҚКО', 'ЦОН №1 НАО "Правительство для граждан" по г. Алматы', 'State Corporation service centre No 1, Almaty'),
 ('quality-agency', 'review_body', NULL, 'Мемлекеттік қызметтер көрсету сапасын бағалау және бақылау жөніндегі уәкілетті орган', 'Уполномоченный орган по оценке и контролю за качеством оказания государственных услуг', 'Authorised body for assessing and controlling the quality of state services');
