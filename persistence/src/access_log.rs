//! The access journal: who read whose personal data, append-only (the database refuses UPDATE and
//! DELETE on `access_log`), read newest first with keyset pagination on the row id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::access_log;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = access_log)]
// `None` is NULL, never SQL `DEFAULT` (SQLite has no DEFAULT in a multi-row VALUES list).
#[diesel(treat_none_as_default_value = false)]
pub struct NewAccess {
    pub at: NaiveDateTime,
    pub actor_sub: String,
    pub actor_role: String,
    pub actor_org: Option<String>,
    /// What was read: `application`, `application_history`, `document`, `document_list`,
    /// `registry_record`, `intake_check`, ...
    pub kind: String,
    pub resource_id: String,
    pub application_id: Option<String>,
    pub subject_iin: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = access_log)]
pub struct AccessRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_sub: String,
    pub actor_role: String,
    pub actor_org: Option<String>,
    pub kind: String,
    pub resource_id: String,
    pub application_id: Option<String>,
    pub subject_iin: Option<String>,
    pub request_id: Option<String>,
}

/// Appends one entry.
pub fn record(conn: &mut DbConnection, entry: &NewAccess) -> Result<(), StoreError> {
    diesel::insert_into(access_log::table).values(entry).execute(conn)?;
    Ok(())
}

/// Appends a page's entries in one statement (one commit for a list of 20, not 20).
pub fn record_all(conn: &mut DbConnection, entries: &[NewAccess]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    // Per backend: a multi-row insert is not generic over `MultiConnection`.
    let insert = diesel::insert_into(access_log::table).values(entries);
    match conn {
        DbConnection::Postgresql(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(())
}

/// What an administrator may filter the journal by; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessFilter {
    pub subject_iin: Option<String>,
    pub actor_sub: Option<String>,
    pub actor_org: Option<String>,
    pub application_id: Option<String>,
    pub kind: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Leave out what the subject read about themselves (the applicant's own view).
    pub exclude_actor: Option<String>,
}

/// Entries matching `filter`, newest first, with ids below `before` (the keyset cursor), at most
/// `limit`.
pub fn query(
    conn: &mut DbConnection,
    filter: &AccessFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AccessRow>, StoreError> {
    let mut q = access_log::table.into_boxed();
    if let Some(v) = &filter.subject_iin {
        q = q.filter(access_log::subject_iin.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_sub {
        q = q.filter(access_log::actor_sub.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_org {
        q = q.filter(access_log::actor_org.eq(v.clone()));
    }
    if let Some(v) = &filter.application_id {
        q = q.filter(access_log::application_id.eq(v.clone()));
    }
    if let Some(v) = &filter.kind {
        q = q.filter(access_log::kind.eq(v.clone()));
    }
    if let Some(v) = filter.from {
        q = q.filter(access_log::at.ge(v));
    }
    if let Some(v) = filter.to {
        q = q.filter(access_log::at.lt(v));
    }
    if let Some(v) = &filter.exclude_actor {
        q = q.filter(access_log::actor_sub.ne(v.clone()));
    }
    if let Some(before) = before {
        q = q.filter(access_log::id.lt(before));
    }
    Ok(q.order(access_log::id.desc()).limit(limit).select(AccessRow::as_select()).load(conn)?)
}
