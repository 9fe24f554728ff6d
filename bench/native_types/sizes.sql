SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c
 WHERE c.relname IN ('exp_text', 'exp_native') OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN ('exp_text'::regclass, 'exp_native'::regclass))
 ORDER BY c.relname;
SELECT 'text', pg_size_pretty(pg_indexes_size('exp_text')), pg_size_pretty(pg_table_size('exp_text'))
UNION ALL SELECT 'native', pg_size_pretty(pg_indexes_size('exp_native')), pg_size_pretty(pg_table_size('exp_native'));
