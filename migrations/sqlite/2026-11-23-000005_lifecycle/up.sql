-- The application lifecycle: the current stage's own deadline, the hearing, the decision, and the
-- applicant's notifications.
ALTER TABLE applications ADD COLUMN stage_due_at TIMESTAMP;
ALTER TABLE applications ADD COLUMN hearing_at TIMESTAMP;
ALTER TABLE applications ADD COLUMN hearing_place TEXT;
-- JSON: the decision (outcome, grounds cited with their text and source, result code, motivation).
ALTER TABLE applications ADD COLUMN decision TEXT;

-- One notification per status change, in the three languages, for the applicant.
CREATE TABLE notifications (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    recipient_iin VARCHAR(12) NOT NULL,
    application_id VARCHAR(36) NOT NULL REFERENCES applications (id),
    kind VARCHAR(64) NOT NULL,
    text_kk TEXT NOT NULL,
    text_ru TEXT NOT NULL,
    text_en TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_iin, id);
