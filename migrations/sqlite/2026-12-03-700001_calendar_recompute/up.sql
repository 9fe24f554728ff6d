-- A calendar change's recomputation of open applications (issue 11), as a walk of its own.
--
-- The change itself (the year, the generation) commits in one short transaction; the open
-- applications it may move are then recomputed a page at a time, each page in its own transaction
-- with its history entries, its events and this row's progress. So filings and commands, which pin
-- the law's data with a shared lock, wait for one page (milliseconds), not for the whole walk (a
-- minute and more at a million applications); and a walk cut off by a crash resumes from its last
-- committed page, through any instance, without moving an application twice.
CREATE TABLE calendar_recomputes (
    change_id VARCHAR NOT NULL PRIMARY KEY REFERENCES calendar_changes (id),
    -- Which walk of `persistence::applications::Along` it is on: 'due', then 'stage'.
    along VARCHAR NOT NULL,
    -- The cursor after the last page done on that walk (`WalkCursor`); NULL at its start.
    after_at TIMESTAMP,
    after_id VARCHAR,
    -- The open applications moved so far.
    moved_count BIGINT NOT NULL DEFAULT 0,
    -- The driver walking it now, and until when its lease runs (renewed with every page): another
    -- instance takes the walk over only when the lease ran out.
    leased_by VARCHAR,
    leased_until TIMESTAMP,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX calendar_recomputes_pending ON calendar_recomputes (started_at) WHERE finished_at IS NULL;
