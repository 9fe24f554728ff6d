DROP TABLE calendar_changes;
DROP TABLE published_passports;
