-- backend-specific: begin
DROP TRIGGER access_log_no_truncate ON access_log;
DROP TRIGGER access_log_no_update ON access_log;
DROP FUNCTION access_log_append_only();
-- backend-specific: end
DROP TABLE access_log;
