UPDATE registry_records SET data = REPLACE(REPLACE(data, '900101300116', '900101300123'), '850505400127', '850505400125');
UPDATE registry_records SET subject_iin = '850505400125' WHERE subject_iin = '850505400127';
UPDATE registry_records SET subject_iin = '900101300123' WHERE subject_iin = '900101300116';
