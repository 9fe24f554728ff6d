-- Documents of an application: attachments the applicant or staff upload, and the signed result
-- documents (results, motivated refusals, intake refusal receipts, preliminary refusal notices).
-- The content is kept in the database itself, so it is backed up and replicated with the application.
CREATE TABLE documents (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    application_id VARCHAR(36) NOT NULL REFERENCES applications (id),
    -- attachment | result
    kind VARCHAR(16) NOT NULL,
    -- attachments: the passport's document code it answers
    requirement_code VARCHAR(64),
    -- results: approval_result | motivated_refusal | intake_refusal_receipt | preliminary_refusal_notice
    result_kind VARCHAR(32),
    file_name VARCHAR(255) NOT NULL,
    content_type VARCHAR(100) NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- lowercase hex SHA-256 of content
    sha256 VARCHAR(64) NOT NULL,
    content BYTEA NOT NULL,
    -- results: the compact JWS (EdDSA) whose payload is content
    signature TEXT,
    created_by VARCHAR(64) NOT NULL,
    created_by_role VARCHAR(16) NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_by_application ON documents (application_id, id);

-- The development signing key, generated once when DOCUMENT_SIGNING_KEY is not configured, so that
-- issued results stay verifiable across restarts. Production configures the key instead.
CREATE TABLE document_signing_keys (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    seed BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
