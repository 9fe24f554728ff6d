-- PostgreSQL's autovacuum settings for applications; SQLite has no visibility map to keep current.
-- backend-specific: begin
SELECT 1;
-- backend-specific: end
