//! The event feed: one append-only row per state change, read by integrators by position.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::events;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    pub occurred_at: NaiveDateTime,
    pub kind: String,
    pub application_id: String,
    pub provider_id: String,
    pub applicant_iin: String,
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub kind: String,
    pub application_id: String,
    pub provider_id: String,
    pub applicant_iin: String,
    pub payload: String,
}

pub fn append(conn: &mut DbConnection, event: &NewEvent) -> Result<(), StoreError> {
    diesel::insert_into(events::table).values(event).execute(conn)?;
    Ok(())
}

/// Events after position `after`, oldest first, optionally only one provider's.
pub fn after(
    conn: &mut DbConnection,
    after: i64,
    provider: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let mut q = events::table.filter(events::id.gt(after)).into_boxed();
    if let Some(p) = provider {
        q = q.filter(events::provider_id.eq(p.to_string()));
    }
    Ok(q.order(events::id.asc()).limit(limit).select(EventRow::as_select()).load(conn)?)
}
