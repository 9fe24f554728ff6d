-- Complaints about a provider's decision, action or inaction (order No 414, rules para 38; 004:169-192):
-- filed by the applicant to the provider's head, satisfied by the provider within 3 working days or
-- forwarded to the review body within 3 working days; reviewed within 5 working days by the provider,
-- 15 by the review body.
CREATE TABLE complaints (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    application_id VARCHAR(36) NOT NULL REFERENCES applications (id),
    -- Copied from the application, for visibility and the monitoring view.
    applicant_iin VARCHAR(12) NOT NULL,
    provider_id VARCHAR(64) NOT NULL,
    service_key VARCHAR(64) NOT NULL,
    registration_number VARCHAR(32) NOT NULL,
    -- decision | action | inaction
    subject VARCHAR(16) NOT NULL,
    text TEXT NOT NULL,
    -- registered | satisfied | forwarded | upheld | rejected
    status VARCHAR(16) NOT NULL,
    -- The application's status when the complaint was filed.
    application_status VARCHAR(32) NOT NULL,
    registered_at TIMESTAMP NOT NULL,
    forward_due_at TIMESTAMP NOT NULL,
    forward_due_date DATE NOT NULL,
    provider_due_at TIMESTAMP NOT NULL,
    provider_due_date DATE NOT NULL,
    reviewer_org VARCHAR(64),
    forwarded_at TIMESTAMP,
    forwarded_by VARCHAR(64),
    forwarded_on_time BOOLEAN,
    review_due_at TIMESTAMP,
    review_due_date DATE,
    -- satisfied (by the provider) | upheld | rejected (by the review body)
    outcome VARCHAR(16),
    reason TEXT,
    resolved_at TIMESTAMP,
    resolved_by VARCHAR(64),
    resolved_by_role VARCHAR(16),
    resolved_on_time BOOLEAN,
    -- Whether the application was reopened for a new decision.
    reopened BOOLEAN NOT NULL DEFAULT FALSE,
    -- JSON: the terms applied (code, value, unit, source), as in force at registration.
    terms TEXT NOT NULL,
    row_version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX complaints_by_applicant ON complaints (applicant_iin, id);
CREATE INDEX complaints_by_provider ON complaints (provider_id, id);
CREATE INDEX complaints_by_reviewer ON complaints (reviewer_org, id);
CREATE INDEX complaints_by_application ON complaints (application_id);
