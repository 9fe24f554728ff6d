DROP TABLE events;
DROP TABLE counters;
DROP TABLE idempotency_keys;
DROP TABLE application_history;
DROP TABLE applications;
DROP TABLE organizations;
