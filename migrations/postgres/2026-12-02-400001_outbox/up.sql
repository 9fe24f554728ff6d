-- The outbox (issue 12): the events table is it. Each event is fanned out to the matching
-- subscriptions in the transaction that writes it (a `deliveries` row each), and delivered afterwards
-- by a worker in every instance that claims due deliveries with FOR UPDATE SKIP LOCKED and a lease.

-- The service of an event, for subscription filters and service-account scopes. Older events keep NULL
-- (no back-fill: their application still names its service).
ALTER TABLE events ADD COLUMN service_key VARCHAR(64);

CREATE TABLE subscriptions (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    -- Who created it: an administrator or a service account (its client id).
    owner_sub VARCHAR(64) NOT NULL,
    owner_role VARCHAR(16) NOT NULL,
    -- `webhook` (target is the callback URL) or `nats` (target is the JetStream subject).
    transport VARCHAR(16) NOT NULL,
    target TEXT NOT NULL,
    -- `whsec_<base64>` (Standard Webhooks); empty for NATS.
    secret TEXT NOT NULL,
    -- JSON: domain::delivery::Filter.
    filter TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX subscriptions_by_owner ON subscriptions (owner_sub, id);

CREATE TABLE deliveries (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    subscription_id VARCHAR(36) NOT NULL REFERENCES subscriptions (id),
    event_id BIGINT NOT NULL REFERENCES events (id),
    -- pending, delivered, dead, cancelled (the subscription was deleted).
    state VARCHAR(16) NOT NULL,
    attempts BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- The retry window's start: the first attempt's time, or the replay's.
    window_start TIMESTAMP,
    next_attempt_at TIMESTAMP NOT NULL,
    -- The lease of the instance that is delivering it; a crashed instance's lease lapses.
    claimed_until TIMESTAMP,
    claimed_by VARCHAR(64),
    last_status BIGINT,
    last_error TEXT,
    delivered_at TIMESTAMP,
    dead_at TIMESTAMP,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, state, event_id);

CREATE TABLE delivery_attempts (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    delivery_id VARCHAR(36) NOT NULL REFERENCES deliveries (id),
    attempt BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    -- The receiver's HTTP status, when it answered.
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    -- delivered, failed, dead
    outcome VARCHAR(16) NOT NULL,
    instance VARCHAR(64) NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, id);
