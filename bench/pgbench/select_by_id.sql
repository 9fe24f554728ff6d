-- The read ceiling of the database itself (informational): one application row by primary key, as
-- the server's read by id selects it, ids drawn at random from the same 100,000 of the provider's
-- (bench_ids, run.sh). The server adds to this the journal row of the read, the HTTP and JSON work.
\set n random(1, :count)
SELECT a.* FROM bench_ids b JOIN applications a ON a.id = b.id WHERE b.n = :n;
