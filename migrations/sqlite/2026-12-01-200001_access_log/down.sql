-- backend-specific: begin
DROP TRIGGER access_log_no_delete;
DROP TRIGGER access_log_no_update;
-- backend-specific: end
DROP TABLE access_log;
