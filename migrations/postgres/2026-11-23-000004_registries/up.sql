-- The embedded state registries: records the provider would obtain through the e-government gateway
-- (persons, civil registry births and marriages, criminal records, guardianship, ...), kept here so that
-- every flow runs without the gateway. Administrators edit them; a gateway adapter can replace them.
CREATE TABLE registry_records (
    id VARCHAR(36) PRIMARY KEY NOT NULL,
    -- domain::passport::Registry code: persons, civil_registry_births, civil_registry_marriages, ...
    registry VARCHAR(32) NOT NULL,
    -- the person the record is about (the child for a birth record)
    subject_iin VARCHAR(12) NOT NULL,
    -- person, birth, marriage, divorce, guardianship, criminal_record, narcology, real_estate, ...
    kind VARCHAR(32) NOT NULL,
    -- JSON object: the record's content
    data TEXT NOT NULL,
    -- last day the record is valid; NULL: no end
    valid_until DATE,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR(64) NOT NULL
);
CREATE INDEX registry_records_by_subject ON registry_records (registry, subject_iin, id);

-- Demo records for the IINs the tests and the README use. 900101300123 (applicant): a person, married
-- to 850505400125, the father of 150321650010, no criminal record entries. 900101300126: a person with
-- no marriage record, guardian of 150321650010.
INSERT INTO registry_records (id, registry, subject_iin, kind, data, valid_until, updated_at, updated_by) VALUES
 ('00000000-0000-7000-8000-000000000001', 'persons', '900101300123', 'person',
  '{"last_name": "Ахметов", "first_name": "Серик", "patronymic": "Болатович", "birth_date": "1990-01-01", "citizenship": "KZ", "address": "Астана, Есильский район, ул. Мангилик Ел 8, кв. 12", "identity_document": {"type": "id_card", "number": "045123456", "issued_on": "2020-05-11"}}',
  '2030-05-10', '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000002', 'civil_registry_marriages', '900101300123', 'marriage',
  '{"record_number": "АЗ-2014-000731", "registered_on": "2014-08-16", "registered_by": "Астана, отдел ЗАГС Есильского района", "spouse_iin": "850505400125", "spouse_name": "Ахметова Айгерим Нурлановна"}',
  NULL, '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000003', 'persons', '850505400125', 'person',
  '{"last_name": "Ахметова", "first_name": "Айгерим", "patronymic": "Нурлановна", "birth_date": "1985-05-05", "citizenship": "KZ", "address": "Астана, Есильский район, ул. Мангилик Ел 8, кв. 12", "identity_document": {"type": "id_card", "number": "041987654", "issued_on": "2019-02-20"}}',
  '2029-02-19', '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000004', 'civil_registry_marriages', '850505400125', 'marriage',
  '{"record_number": "АЗ-2014-000731", "registered_on": "2014-08-16", "registered_by": "Астана, отдел ЗАГС Есильского района", "spouse_iin": "900101300123", "spouse_name": "Ахметов Серик Болатович"}',
  NULL, '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000005', 'persons', '900101300126', 'person',
  '{"last_name": "Жумабаев", "first_name": "Ерлан", "patronymic": "Каиратович", "birth_date": "1990-01-01", "citizenship": "KZ", "address": "Астана, район Алматы, пр. Республики 24, кв. 5", "identity_document": {"type": "id_card", "number": "046555111", "issued_on": "2021-09-01"}}',
  '2031-08-31', '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000006', 'persons', '150321650010', 'person',
  '{"last_name": "Ахметова", "first_name": "Дана", "patronymic": "Сериковна", "birth_date": "2015-03-21", "citizenship": "KZ", "address": "Астана, район Алматы, пр. Республики 24, кв. 5"}',
  NULL, '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000007', 'civil_registry_births', '150321650010', 'birth',
  '{"record_number": "АР-2015-002154", "birth_date": "2015-03-21", "birth_place": "Астана", "registered_by": "Астана, отдел ЗАГС Есильского района", "child_name": "Ахметова Дана Сериковна", "parents": [{"role": "father", "iin": "900101300123", "name": "Ахметов Серик Болатович"}, {"role": "mother", "iin": "850505400125", "name": "Ахметова Айгерим Нурлановна"}]}',
  NULL, '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000008', 'family_registers', '900101300126', 'guardianship',
  '{"record_number": "ОП-2024-000118", "role": "guardian", "ward_iin": "150321650010", "ward_name": "Ахметова Дана Сериковна", "established_by": "Астана, управление образования, приказ № 118 от 2024-06-03", "established_on": "2024-06-03", "form": "guardianship"}',
  '2033-03-21', '2026-01-05 09:00:00', 'seed'),
 ('00000000-0000-7000-8000-000000000009', 'family_registers', '150321650010', 'guardianship',
  '{"record_number": "ОП-2024-000118", "role": "ward", "guardian_iin": "900101300126", "guardian_name": "Жумабаев Ерлан Каиратович", "established_by": "Астана, управление образования, приказ № 118 от 2024-06-03", "established_on": "2024-06-03", "form": "guardianship"}',
  '2033-03-21', '2026-01-05 09:00:00', 'seed');
