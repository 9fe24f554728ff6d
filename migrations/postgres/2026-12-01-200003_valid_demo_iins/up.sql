-- The demo registry records named two people by numbers that are not IINs (wrong check digit:
-- 900101300123, 850505400125). Applicant tokens must now carry a valid IIN (issue 14), so the demo
-- people get valid ones: 900101300116 (born 1990-01-01, male) and 850505400127 (born 1985-05-05,
-- female), in the records' subjects and inside their contents.
UPDATE registry_records SET subject_iin = '900101300116' WHERE subject_iin = '900101300123';
UPDATE registry_records SET subject_iin = '850505400127' WHERE subject_iin = '850505400125';
UPDATE registry_records SET data = REPLACE(REPLACE(data, '900101300123', '900101300116'), '850505400125', '850505400127');
