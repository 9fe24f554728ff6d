DROP TABLE notifications;
ALTER TABLE applications DROP COLUMN decision;
ALTER TABLE applications DROP COLUMN hearing_place;
ALTER TABLE applications DROP COLUMN hearing_at;
ALTER TABLE applications DROP COLUMN stage_due_at;
