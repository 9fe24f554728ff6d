//! Business-calendar years as changed by administrators (a new decree's transfers): append-only, and
//! replayed over the shipped calendar at start so that a change survives restarts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::calendar_changes;
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

/// The change in force for each changed year (the latest one), in the order those changes were made:
/// the order to replay them in, so each builds on the calendar its author saw.
pub fn latest_per_year(conn: &mut DbConnection) -> Result<Vec<CalendarChange>, StoreError> {
    let all: Vec<CalendarChange> = calendar_changes::table
        .order((calendar_changes::changed_at.asc(), calendar_changes::id.asc()))
        .select(CalendarChange::as_select())
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    let mut latest: Vec<CalendarChange> = all.into_iter().rev().filter(|c| seen.insert(c.year)).collect();
    latest.reverse();
    Ok(latest)
}

/// The calendar with every administrator's change replayed over `base` (the latest change of each year,
/// in the order they were made), so that recorded decrees survive restarts.
pub fn replay(
    conn: &mut DbConnection,
    mut base: domain::calendar::BusinessCalendar,
) -> Result<domain::calendar::BusinessCalendar, StoreError> {
    for change in latest_per_year(conn)? {
        let what = format!("calendar change {} of {}", change.id, change.year);
        let data: domain::calendar::YearData =
            serde_json::from_str(&change.data).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
        base = base.with_year(data).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
    }
    Ok(base)
}
