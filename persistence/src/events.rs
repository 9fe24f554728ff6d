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
    pub service_key: Option<String>,
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
    /// NULL on events written before issue 12.
    pub service_key: Option<String>,
}

/// Appends an event and fans it out to the subscriptions that want it ([`crate::outbox::fan_out`]),
/// in the caller's transaction: the change, its event and its deliveries commit together.
pub fn append(conn: &mut DbConnection, event: &NewEvent) -> Result<i64, StoreError> {
    let id: i64 = diesel::insert_into(events::table).values(event).returning(events::id).get_result(conn)?;
    crate::outbox::fan_out(conn, id, event)?;
    Ok(id)
}

/// Events after position `after`, oldest first, optionally only one provider's, or only some services'
/// (a service account's scopes).
pub fn after(
    conn: &mut DbConnection,
    after: i64,
    provider: Option<&str>,
    services: Option<&[String]>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let mut q = events::table.filter(events::id.gt(after)).into_boxed();
    if let Some(p) = provider {
        q = q.filter(events::provider_id.eq(p.to_string()));
    }
    if let Some(keys) = services {
        q = q.filter(events::service_key.eq_any(keys.to_vec()));
    }
    Ok(q.order(events::id.asc()).limit(limit).select(EventRow::as_select()).load(conn)?)
}
