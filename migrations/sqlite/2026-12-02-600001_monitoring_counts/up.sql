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
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    provider_id VARCHAR(64) NOT NULL,
    filed_month VARCHAR(7) NOT NULL,
    service_key VARCHAR(64) NOT NULL,
    stage VARCHAR(64) NOT NULL,
    samples BIGINT NOT NULL,
    working_days BIGINT NOT NULL,
    minutes BIGINT NOT NULL
);

-- backend-specific: begin
-- Each change of an application appends what it adds (+1) and what it no longer counts (-1).
CREATE TRIGGER applications_counted_on_insert AFTER INSERT ON applications
BEGIN
    INSERT INTO monitoring_count_changes (provider_id, filed_month, service_key, passport_version, channel,
        subtype, status, applications, decided_on_time, working_days_to_decision, term_working_days)
    VALUES (NEW.provider_id, strftime('%Y-%m', NEW.submitted_at), NEW.service_key, NEW.passport_version, NEW.channel,
        COALESCE(NEW.subtype, ''), NEW.status, 1, (CASE WHEN NEW.decided_on_time THEN 1 ELSE 0 END),
        COALESCE(NEW.working_days_to_decision, 0), COALESCE(NEW.term_working_days, 0));
END;
CREATE TRIGGER applications_counted_on_delete AFTER DELETE ON applications
BEGIN
    INSERT INTO monitoring_count_changes (provider_id, filed_month, service_key, passport_version, channel,
        subtype, status, applications, decided_on_time, working_days_to_decision, term_working_days)
    VALUES (OLD.provider_id, strftime('%Y-%m', OLD.submitted_at), OLD.service_key, OLD.passport_version, OLD.channel,
        COALESCE(OLD.subtype, ''), OLD.status, -1, -(CASE WHEN OLD.decided_on_time THEN 1 ELSE 0 END),
        -COALESCE(OLD.working_days_to_decision, 0), -COALESCE(OLD.term_working_days, 0));
END;
-- Most changes (an assignment, a hearing's time, a version bump) move no figure: no change row.
CREATE TRIGGER applications_counted_on_update AFTER UPDATE ON applications
    WHEN OLD.provider_id IS NOT NEW.provider_id OR OLD.submitted_at IS NOT NEW.submitted_at OR
        OLD.service_key IS NOT NEW.service_key OR OLD.passport_version IS NOT NEW.passport_version OR
        OLD.channel IS NOT NEW.channel OR OLD.subtype IS NOT NEW.subtype OR OLD.status IS NOT NEW.status OR
        OLD.decided_on_time IS NOT NEW.decided_on_time OR
        OLD.working_days_to_decision IS NOT NEW.working_days_to_decision OR
        OLD.term_working_days IS NOT NEW.term_working_days
BEGIN
    INSERT INTO monitoring_count_changes (provider_id, filed_month, service_key, passport_version, channel,
        subtype, status, applications, decided_on_time, working_days_to_decision, term_working_days)
    VALUES (OLD.provider_id, strftime('%Y-%m', OLD.submitted_at), OLD.service_key, OLD.passport_version, OLD.channel,
        COALESCE(OLD.subtype, ''), OLD.status, -1, -(CASE WHEN OLD.decided_on_time THEN 1 ELSE 0 END),
        -COALESCE(OLD.working_days_to_decision, 0), -COALESCE(OLD.term_working_days, 0));
    INSERT INTO monitoring_count_changes (provider_id, filed_month, service_key, passport_version, channel,
        subtype, status, applications, decided_on_time, working_days_to_decision, term_working_days)
    VALUES (NEW.provider_id, strftime('%Y-%m', NEW.submitted_at), NEW.service_key, NEW.passport_version, NEW.channel,
        COALESCE(NEW.subtype, ''), NEW.status, 1, (CASE WHEN NEW.decided_on_time THEN 1 ELSE 0 END),
        COALESCE(NEW.working_days_to_decision, 0), COALESCE(NEW.term_working_days, 0));
END;

CREATE TRIGGER stage_timings_counted_on_insert AFTER INSERT ON stage_timings
BEGIN
    INSERT INTO stage_count_changes (provider_id, filed_month, service_key, stage, samples, working_days, minutes)
    VALUES (NEW.provider_id, strftime('%Y-%m', NEW.submitted_at), NEW.service_key, NEW.stage, 1,
        NEW.working_days, NEW.minutes);
END;
CREATE TRIGGER stage_timings_counted_on_delete AFTER DELETE ON stage_timings
BEGIN
    INSERT INTO stage_count_changes (provider_id, filed_month, service_key, stage, samples, working_days, minutes)
    VALUES (OLD.provider_id, strftime('%Y-%m', OLD.submitted_at), OLD.service_key, OLD.stage, -1,
        -OLD.working_days, -OLD.minutes);
END;

-- What is already stored, counted once.
INSERT INTO monitoring_counts
SELECT provider_id, strftime('%Y-%m', submitted_at), service_key, passport_version, channel, COALESCE(subtype, ''),
       status, COUNT(*), SUM(CASE WHEN decided_on_time THEN 1 ELSE 0 END), COALESCE(SUM(working_days_to_decision), 0),
       COALESCE(SUM(term_working_days), 0)
FROM applications GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO stage_counts
SELECT provider_id, strftime('%Y-%m', submitted_at), service_key, stage, COUNT(*), SUM(working_days), SUM(minutes)
FROM stage_timings GROUP BY 1, 2, 3, 4;
-- backend-specific: end

-- The edges of a period are read from the rows themselves: by filing moment, with or without a
-- provider. The stage indexes by provider and stage served the old whole-table aggregate only.
DROP INDEX stage_timings_by_provider;
DROP INDEX stage_timings_by_service;
CREATE INDEX stage_timings_by_provider_submitted ON stage_timings (provider_id, submitted_at);
CREATE INDEX stage_timings_by_submitted ON stage_timings (submitted_at);
CREATE INDEX applications_by_submitted ON applications (submitted_at);
