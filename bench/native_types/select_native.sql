\set n random(1, 100000)
SELECT a.* FROM exp_ids b JOIN exp_native a ON a.id = b.id::uuid WHERE b.n = :n;
