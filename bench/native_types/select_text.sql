\set n random(1, 100000)
SELECT a.* FROM exp_ids b JOIN exp_text a ON a.id = b.id WHERE b.n = :n;
