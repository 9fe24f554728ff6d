//! Business-calendar years as changed by administrators (a new decree's transfers): append-only, and
//! replayed over the shipped calendar at start so that a change survives restarts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::applications::{Along, WalkCursor};
use crate::schema::{calendar_changes, calendar_recomputes};
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_changes)]
pub struct CalendarChange {
    /// UUIDv7, so ids sort in the order changes were made even when two share `changed_at`.
    pub id: String,
    pub year: i32,
    /// The whole year as JSON (the shape of `domain::calendar::YearData`): a change replaces the year.
    pub data: String,
    /// The administrator's reason, as written to the recomputed applications' history.
    pub reason: String,
    pub changed_at: NaiveDateTime,
    pub changed_by: String,
}

pub fn insert(conn: &mut DbConnection, change: &CalendarChange) -> Result<(), StoreError> {
    diesel::insert_into(calendar_changes::table).values(change).execute(conn)?;
    Ok(())
}

/// Every change, in the order they were made (`changed_at`, then the UUIDv7 id).
fn all_in_order(conn: &mut DbConnection) -> Result<Vec<CalendarChange>, StoreError> {
    Ok(calendar_changes::table
        .order((calendar_changes::changed_at.asc(), calendar_changes::id.asc()))
        .select(CalendarChange::as_select())
        .load(conn)?)
}

/// The change in force for each changed year among `all` (the latest one), in the order those
/// changes were made: the order to replay them in, so each builds on the calendar its author saw.
fn latest_of(all: Vec<CalendarChange>) -> Vec<CalendarChange> {
    let mut seen = std::collections::HashSet::new();
    let mut latest: Vec<CalendarChange> = all.into_iter().rev().filter(|c| seen.insert(c.year)).collect();
    latest.reverse();
    latest
}

/// The change in force for each changed year (the latest one), in the order those changes were made.
pub fn latest_per_year(conn: &mut DbConnection) -> Result<Vec<CalendarChange>, StoreError> {
    Ok(latest_of(all_in_order(conn)?))
}

/// One recorded change, by id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<CalendarChange>, StoreError> {
    Ok(calendar_changes::table.find(id).select(CalendarChange::as_select()).first(conn).optional()?)
}

/// The calendar as it stood just before `change` and just after it: `base` with the changes made
/// before it replayed, then with it too. What a walk resumed after a crash recomputes on, and
/// compares with to name the days that moved an application.
pub fn around(
    conn: &mut DbConnection,
    base: &domain::calendar::BusinessCalendar,
    change: &CalendarChange,
) -> Result<(domain::calendar::BusinessCalendar, domain::calendar::BusinessCalendar), StoreError> {
    let mut earlier = all_in_order(conn)?;
    let Some(at) = earlier.iter().position(|c| c.id == change.id) else { return Err(StoreError::NotFound) };
    earlier.truncate(at);
    let before = replay_changes(latest_of(earlier.clone()), base.clone())?;
    earlier.push(change.clone());
    let after = replay_changes(latest_of(earlier), base.clone())?;
    Ok((before, after))
}

/// The calendar with every administrator's change replayed over `base` (the latest change of each year,
/// in the order they were made), so that recorded decrees survive restarts.
pub fn replay(
    conn: &mut DbConnection,
    base: domain::calendar::BusinessCalendar,
) -> Result<domain::calendar::BusinessCalendar, StoreError> {
    replay_changes(latest_per_year(conn)?, base)
}

fn replay_changes(
    changes: Vec<CalendarChange>,
    mut base: domain::calendar::BusinessCalendar,
) -> Result<domain::calendar::BusinessCalendar, StoreError> {
    for change in changes {
        let what = format!("calendar change {} of {}", change.id, change.year);
        let data: domain::calendar::YearData =
            serde_json::from_str(&change.data).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
        base = base.with_year(data).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
    }
    Ok(base)
}

/// A calendar change's walk over the open applications it may move, a page at a time, each page
/// in its own transaction with this row's progress (migration `2026-12-03-700001`). The change
/// itself commits first, in a short transaction; filings and commands then wait for a page, not
/// for the walk, and a walk cut off by a crash resumes from its last page, through any instance.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_recomputes)]
pub struct Recompute {
    pub change_id: String,
    /// [`Along::key`] of the walk it is on.
    pub along: String,
    pub after_at: Option<NaiveDateTime>,
    pub after_id: Option<String>,
    pub moved_count: i64,
    pub leased_by: Option<String>,
    pub leased_until: Option<NaiveDateTime>,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl Recompute {
    /// A walk of `change_id` about to start, leased to `driver` until `leased_until` (none: any
    /// instance's resumer takes it).
    pub fn start(change_id: &str, driver: Option<(&str, NaiveDateTime)>, started_at: NaiveDateTime) -> Recompute {
        Recompute {
            change_id: change_id.into(),
            along: Along::Due.key().into(),
            after_at: None,
            after_id: None,
            moved_count: 0,
            leased_by: driver.map(|(d, _)| d.to_string()),
            leased_until: driver.map(|(_, until)| until),
            started_at,
            finished_at: None,
        }
    }

    /// The walk it is on and where that walk resumes.
    pub fn position(&self) -> Result<(Along, Option<WalkCursor>), StoreError> {
        let along = Along::from_key(&self.along)
            .ok_or_else(|| StoreError::Corrupt(format!("recompute {}: walk `{}`", self.change_id, self.along)))?;
        let cursor = match (self.after_at, &self.after_id) {
            (Some(at), Some(id)) => Some(WalkCursor { at, id: id.clone() }),
            _ => None,
        };
        Ok((along, cursor))
    }
}

pub fn start_recompute(conn: &mut DbConnection, walk: &Recompute) -> Result<(), StoreError> {
    diesel::insert_into(calendar_recomputes::table).values(walk).execute(conn)?;
    Ok(())
}

/// The oldest walk not finished, if any: a new calendar change waits for it (it recomputes on the
/// calendar that walk's change made).
pub fn pending_recompute(conn: &mut DbConnection) -> Result<Option<Recompute>, StoreError> {
    Ok(calendar_recomputes::table
        .filter(calendar_recomputes::finished_at.is_null())
        .order(calendar_recomputes::started_at.asc())
        .select(Recompute::as_select())
        .first(conn)
        .optional()?)
}

/// What a driver may do with a walk it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Leased to the driver until the transaction's `leased_until`: walk the next page.
    Mine(Recompute),
    /// Another driver's lease still runs.
    Leased(Recompute),
    /// Nothing left to walk.
    Finished(Recompute),
}

/// Locks the walk's row until the caller's transaction ends (PostgreSQL `FOR UPDATE`; SQLite has one
/// writer at a time) and takes or renews its lease for `driver` until `leased_until`, unless another
/// driver's lease still runs at `now`. Lease times are the machine's clock, not the law's: they say
/// how long a driver may go silent, nothing about a term.
pub fn claim_recompute(
    conn: &mut DbConnection,
    change_id: &str,
    driver: &str,
    now: NaiveDateTime,
    leased_until: NaiveDateTime,
) -> Result<Claim, StoreError> {
    let walk = if let DbConnection::Postgresql(pg) = &mut *conn {
        calendar_recomputes::table.find(change_id).select(Recompute::as_select()).for_update().first(pg)
    } else {
        calendar_recomputes::table.find(change_id).select(Recompute::as_select()).first(conn)
    }
    .optional()?
    .ok_or(StoreError::NotFound)?;
    if walk.finished_at.is_some() {
        return Ok(Claim::Finished(walk));
    }
    let another = walk.leased_by.as_deref().is_some_and(|d| d != driver);
    if another && walk.leased_until.is_some_and(|until| until > now) {
        return Ok(Claim::Leased(walk));
    }
    diesel::update(calendar_recomputes::table.find(change_id))
        .set((calendar_recomputes::leased_by.eq(driver), calendar_recomputes::leased_until.eq(leased_until)))
        .execute(conn)?;
    Ok(Claim::Mine(Recompute { leased_by: Some(driver.into()), leased_until: Some(leased_until), ..walk }))
}

/// Records a page done, in the page's transaction: the walk and cursor it resumes from, the moved
/// count, and `finished_at` when it was the last.
pub fn advance_recompute(conn: &mut DbConnection, walk: &Recompute) -> Result<(), StoreError> {
    diesel::update(calendar_recomputes::table.find(&walk.change_id))
        .set((
            calendar_recomputes::along.eq(&walk.along),
            calendar_recomputes::after_at.eq(walk.after_at),
            calendar_recomputes::after_id.eq(&walk.after_id),
            calendar_recomputes::moved_count.eq(walk.moved_count),
            calendar_recomputes::finished_at.eq(walk.finished_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The walk of one change, if it had one (a change that made no day something else has none).
pub fn recompute_of(conn: &mut DbConnection, change_id: &str) -> Result<Option<Recompute>, StoreError> {
    Ok(calendar_recomputes::table.find(change_id).select(Recompute::as_select()).first(conn).optional()?)
}
