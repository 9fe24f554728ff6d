-- Monitoring counts kept as the applications change (issue 11: monitoring under 100 ms at 1M
-- applications). Aggregating the applications on each request costs time proportional to their
-- number; these tables hold the same sums per month of filing, so the view reads a few thousand rows.
--
-- No hot row: a trigger appends one change row per change of a counted figure (insert-only, nobody
-- waits on anybody's row lock), and the server folds them into the totals about once a second
-- (`persistence::monitoring::fold`). Readers sum totals and pending changes in one statement, so
-- they see exactly the committed applications whether a fold has run or not.
--
-- `filed_month` is the UTC month of `submitted_at` ('YYYY-MM'): a period asked for in local dates
-- is read from the whole months it covers, and its edges from the applications themselves.
-- `subtype` is '' when the application has none: a key column cannot be null.

CREATE TABLE monitoring_counts (
    provider_id VARCHAR(64) NOT NULL,
    filed_month VARCHAR(7) NOT NULL,
    service_key VARCHAR(64) NOT NULL,
    passport_version VARCHAR(64) NOT NULL,
    channel VARCHAR(32) NOT NULL,
    subtype VARCHAR(64) NOT NULL,
    status VARCHAR(32) NOT NULL,
    applications BIGINT NOT NULL,
    decided_on_time BIGINT NOT NULL,
    working_days_to_decision BIGINT NOT NULL,
    term_working_days BIGINT NOT NULL,
    PRIMARY KEY (provider_id, filed_month, service_key, passport_version, channel, subtype, status)
);
CREATE INDEX monitoring_counts_by_month ON monitoring_counts (filed_month);

CREATE TABLE monitoring_count_changes (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    provider_id VARCHAR(64) NOT NULL,
    filed_month VARCHAR(7) NOT NULL,
    service_key VARCHAR(64) NOT NULL,
    passport_version VARCHAR(64) NOT NULL,
    channel VARCHAR(32) NOT NULL,
    subtype VARCHAR(64) NOT NULL,
    status VARCHAR(32) NOT NULL,
    applications BIGINT NOT NULL,
    decided_on_time BIGINT NOT NULL,
    working_days_to_decision BIGINT NOT NULL,
    term_working_days BIGINT NOT NULL
);

CREATE TABLE stage_counts (
    provider_id VARCHAR(64) NOT NULL,
    filed_month VARCHAR(7) NOT NULL,
    service_key VARCHAR(64) NOT NULL,
    stage VARCHAR(64) NOT NULL,
    samples BIGINT NOT NULL,
    working_days BIGINT NOT NULL,
    minutes BIGINT NOT NULL,
    PRIMARY KEY (provider_id, filed_month, service_key, stage)
);
CREATE INDEX stage_counts_by_month ON stage_counts (filed_month);

CREATE TABLE stage_count_changes (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    provider_id VARCHAR(64) NOT NULL,
    filed_month VARCHAR(7) NOT NULL,
    service_key VARCHAR(64) NOT NULL,
    stage VARCHAR(64) NOT NULL,
    samples BIGINT NOT NULL,
    working_days BIGINT NOT NULL,
    minutes BIGINT NOT NULL
);

-- backend-specific: begin
-- One application's contribution, with `sign` +1 (it is counted) or -1 (it no longer is, as it was).
CREATE FUNCTION monitoring_count_change(a applications, sign BIGINT) RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO monitoring_count_changes (provider_id, filed_month, service_key, passport_version, channel,
        subtype, status, applications, decided_on_time, working_days_to_decision, term_working_days)
    VALUES (a.provider_id, to_char(a.submitted_at, 'YYYY-MM'), a.service_key, a.passport_version, a.channel,
        COALESCE(a.subtype, ''), a.status, sign, sign * (CASE WHEN a.decided_on_time THEN 1 ELSE 0 END),
        sign * COALESCE(a.working_days_to_decision, 0), sign * COALESCE(a.term_working_days, 0))
$$;

CREATE FUNCTION applications_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM monitoring_count_change(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM monitoring_count_change(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER applications_counted_on_insert_or_delete AFTER INSERT OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_counted();
-- Most changes (an assignment, a hearing's time, a version bump) move no figure: no change row.
CREATE TRIGGER applications_counted_on_update AFTER UPDATE ON applications
    FOR EACH ROW WHEN ((OLD.provider_id, OLD.submitted_at, OLD.service_key, OLD.passport_version, OLD.channel,
        OLD.subtype, OLD.status, OLD.decided_on_time, OLD.working_days_to_decision, OLD.term_working_days)
        IS DISTINCT FROM (NEW.provider_id, NEW.submitted_at, NEW.service_key, NEW.passport_version, NEW.channel,
        NEW.subtype, NEW.status, NEW.decided_on_time, NEW.working_days_to_decision, NEW.term_working_days))
    EXECUTE FUNCTION applications_counted();

CREATE FUNCTION stage_timings_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t stage_timings;
    sign BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN t := OLD; sign := -1; ELSE t := NEW; sign := 1; END IF;
    INSERT INTO stage_count_changes (provider_id, filed_month, service_key, stage, samples, working_days, minutes)
    VALUES (t.provider_id, to_char(t.submitted_at, 'YYYY-MM'), t.service_key, t.stage, sign,
        sign * t.working_days, sign * t.minutes);
    RETURN NULL;
END
$$;

CREATE TRIGGER stage_timings_counted AFTER INSERT OR DELETE ON stage_timings
    FOR EACH ROW EXECUTE FUNCTION stage_timings_counted();

-- What is already stored, counted once.
INSERT INTO monitoring_counts
SELECT provider_id, to_char(submitted_at, 'YYYY-MM'), service_key, passport_version, channel, COALESCE(subtype, ''),
       status, COUNT(*), SUM(CASE WHEN decided_on_time THEN 1 ELSE 0 END), COALESCE(SUM(working_days_to_decision), 0),
       COALESCE(SUM(term_working_days), 0)
FROM applications GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO stage_counts
SELECT provider_id, to_char(submitted_at, 'YYYY-MM'), service_key, stage, COUNT(*), SUM(working_days), SUM(minutes)
FROM stage_timings GROUP BY 1, 2, 3, 4;
-- backend-specific: end

-- The edges of a period are read from the rows themselves: by filing moment, with or without a
-- provider. The stage indexes by provider and stage served the old whole-table aggregate only.
DROP INDEX stage_timings_by_provider;
DROP INDEX stage_timings_by_service;
CREATE INDEX stage_timings_by_provider_submitted ON stage_timings (provider_id, submitted_at);
CREATE INDEX stage_timings_by_submitted ON stage_timings (submitted_at);
CREATE INDEX applications_by_submitted ON applications (submitted_at);
