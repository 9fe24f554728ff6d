-- The preschool queue (issue 13): queues per territory and year of birth, the children placed in them,
-- priority categories and the referral term as administrators' data citing their outside source, the
-- preschool organisations and their free places, and the referrals issued for them.

-- One queue per territory (the provider that keeps it: a district education department or an akim's
-- office) and year of birth. `next_number` is the last entry number given out; registrations and offers
-- lock this row, so each queue's numbers and positions move one transaction at a time.
CREATE TABLE queues (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    territory VARCHAR(64) NOT NULL REFERENCES organizations (id),
    birth_year INTEGER NOT NULL,
    next_number BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (territory, birth_year)
);

-- Priority categories (the seeds give no ordering rules): a lower rank is served first.
CREATE TABLE queue_priority_categories (
    code VARCHAR(64) PRIMARY KEY NOT NULL,
    priority_rank INTEGER NOT NULL,
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_by VARCHAR(64) NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- How long a referral stays valid, from a date on (append-only: the term in force on a day is the
-- latest one from that day or before).
CREATE TABLE queue_referral_terms (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    effective_from DATE NOT NULL,
    valid_days INTEGER NOT NULL,
    source TEXT NOT NULL,
    recorded_by VARCHAR(64) NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX queue_referral_terms_by_date ON queue_referral_terms (effective_from);

-- A preschool organisation and the territory whose queues its places serve.
CREATE TABLE preschools (
    org_id VARCHAR(64) PRIMARY KEY NOT NULL REFERENCES organizations (id),
    territory VARCHAR(64) NOT NULL REFERENCES organizations (id),
    recorded_by VARCHAR(64) NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

-- A child in a queue. `registered_day` (days since 1970-01-01, Astana date) and `waited_days` (set on
-- leaving) let monitoring average waiting times with plain SQL sums on both backends.
CREATE TABLE queue_entries (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    queue_id VARCHAR(36) NOT NULL REFERENCES queues (id),
    entry_number BIGINT NOT NULL,
    application_id VARCHAR(36) NOT NULL UNIQUE REFERENCES applications (id),
    applicant_iin VARCHAR(12) NOT NULL,
    child_iin VARCHAR(12) NOT NULL,
    category_code VARCHAR(64),
    priority_rank INTEGER NOT NULL,
    registered_at TIMESTAMP NOT NULL,
    registered_day BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    position_at_issue BIGINT NOT NULL,
    waiting_until TIMESTAMP,
    left_at TIMESTAMP,
    waited_days BIGINT,
    slip_document_id VARCHAR(36),
    row_version BIGINT NOT NULL,
    UNIQUE (queue_id, entry_number)
);
-- The queue's order among the waiting: position = 1 + the waiting entries before this key.
CREATE INDEX queue_entries_order ON queue_entries (queue_id, state, priority_rank, registered_at, entry_number);
CREATE INDEX queue_entries_by_applicant ON queue_entries (applicant_iin, registered_at);
-- One child holds one place per queue: the last guard behind the rule the procedure checks.
CREATE UNIQUE INDEX queue_entries_one_per_child ON queue_entries (queue_id, child_iin)
    WHERE state IN ('waiting', 'offered', 'enrolled');

-- A free place a preschool organisation recorded, and what became of it.
CREATE TABLE preschool_places (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    preschool_id VARCHAR(64) NOT NULL REFERENCES preschools (org_id),
    queue_id VARCHAR(36) NOT NULL REFERENCES queues (id),
    state VARCHAR(16) NOT NULL,
    recorded_by VARCHAR(64) NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX preschool_places_free ON preschool_places (queue_id, state, recorded_at, id);

-- A referral: one place offered to one child, valid until a moment.
CREATE TABLE referrals (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    place_id VARCHAR(36) NOT NULL REFERENCES preschool_places (id),
    entry_id VARCHAR(36) NOT NULL REFERENCES queue_entries (id),
    queue_id VARCHAR(36) NOT NULL REFERENCES queues (id),
    issued_at TIMESTAMP NOT NULL,
    valid_until TIMESTAMP NOT NULL,
    state VARCHAR(16) NOT NULL,
    closed_at TIMESTAMP,
    document_id VARCHAR(36)
);
CREATE INDEX referrals_by_queue ON referrals (queue_id, state, valid_until);
CREATE INDEX referrals_by_entry ON referrals (entry_id);
-- One place never goes to two children, and two places never to one child.
CREATE UNIQUE INDEX referrals_one_per_place ON referrals (place_id) WHERE state IN ('issued', 'used');
CREATE UNIQUE INDEX referrals_one_per_entry ON referrals (entry_id) WHERE state IN ('issued', 'used');
