-- The staff directory (issue 14): who works for which organisation in which role. An application is
-- assigned only to an active employee of its provider; deactivated entries stay, so history and the
-- access journal keep naming them.
CREATE TABLE staff_members (
    org_id VARCHAR(64) NOT NULL REFERENCES organizations (id),
    sub VARCHAR(64) NOT NULL,
    role VARCHAR(16) NOT NULL,
    full_name VARCHAR(200) NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR(64) NOT NULL,
    PRIMARY KEY (org_id, sub)
);
