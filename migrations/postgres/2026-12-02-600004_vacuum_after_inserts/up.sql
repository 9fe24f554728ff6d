-- The open-deadline counts of monitoring are index-only scans (600002): they read the heap for
-- every page the visibility map does not mark all-visible (only VACUUM marks it), and their plans
-- rest on statistics that only ANALYZE refreshes. With the defaults autovacuum visits a table after
-- inserts of 20% of its rows: at 1M applications, 200,000 filings later. Measured (bench/RESULTS.md):
-- 190,000 filings after the last VACUUM (ANALYZE), the view took 64-87 ms p50; right after one,
-- 33 ms (which of the two mattered was not isolated). Visit applications after 1% new or 2% changed
-- rows instead, and analyse after 2%.
-- backend-specific: begin
ALTER TABLE applications SET (
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
-- backend-specific: end
