-- Administrators' changes to the law as data, append-only and replayed over the shipped data at start.

-- Passport versions published through the API (never rewritten: the key and version are the primary key).
CREATE TABLE published_passports (
    service_key VARCHAR(64) NOT NULL,
    version VARCHAR(64) NOT NULL,
    document TEXT NOT NULL,
    service_title TEXT,
    published_at TIMESTAMP NOT NULL,
    published_by VARCHAR(64) NOT NULL,
    PRIMARY KEY (service_key, version)
);

-- Calendar years as changed by administrators (a new decree's transfers); the latest row per year wins.
CREATE TABLE calendar_changes (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL,
    data TEXT NOT NULL,
    reason TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR(64) NOT NULL
);
CREATE INDEX calendar_changes_by_year ON calendar_changes (year, changed_at);
