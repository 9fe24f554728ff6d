-- backend-specific: begin
SELECT 1;
-- backend-specific: end
