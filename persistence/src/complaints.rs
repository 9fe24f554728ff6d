//! Complaints about a provider's decision, action or inaction (order No 414, rules para 38), and the
//! reads the monitoring view needs (the history of many applications at once).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::applications::HistoryRow;
use crate::schema::{application_history, complaints};
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = complaints)]
#[diesel(treat_none_as_null = true)]
pub struct ComplaintRow {
    pub id: String,
    pub application_id: String,
    pub applicant_iin: String,
    pub provider_id: String,
    pub service_key: String,
    pub registration_number: String,
    /// `decision`, `action` or `inaction`.
    pub subject: String,
    pub text: String,
    /// `registered`, `satisfied`, `forwarded`, `upheld`, `rejected`.
    pub status: String,
    /// The application's status when the complaint was filed.
    pub application_status: String,
    pub registered_at: NaiveDateTime,
    pub forward_due_at: NaiveDateTime,
    pub forward_due_date: NaiveDate,
    pub provider_due_at: NaiveDateTime,
    pub provider_due_date: NaiveDate,
    pub reviewer_org: Option<String>,
    pub forwarded_at: Option<NaiveDateTime>,
    pub forwarded_by: Option<String>,
    pub forwarded_on_time: Option<bool>,
    pub review_due_at: Option<NaiveDateTime>,
    pub review_due_date: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub resolved_by: Option<String>,
    pub resolved_by_role: Option<String>,
    pub resolved_on_time: Option<bool>,
    pub reopened: bool,
    /// JSON array: the terms applied (code, value, unit, source).
    pub terms: String,
    pub row_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Which complaints a caller may see; everything else is as if it did not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplaintScope {
    /// The applicant's own complaints.
    Applicant(String),
    /// Complaints about applications addressed to this provider.
    Provider(String),
    /// Complaints forwarded to this review body.
    Reviewer(String),
    All,
    Nothing,
}

#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub status: Option<String>,
    pub service_key: Option<String>,
    pub provider_id: Option<String>,
    pub application_id: Option<String>,
    /// Keyset cursor: only ids smaller than this (UUIDv7, so newest first).
    pub before_id: Option<String>,
    pub limit: i64,
}

fn scoped<'a>(scope: &ComplaintScope) -> complaints::BoxedQuery<'a, crate::db::MultiBackend> {
    let q = complaints::table.into_boxed();
    match scope {
        ComplaintScope::Applicant(iin) => q.filter(complaints::applicant_iin.eq(iin.clone())),
        ComplaintScope::Provider(org) => q.filter(complaints::provider_id.eq(org.clone())),
        ComplaintScope::Reviewer(org) => q.filter(complaints::reviewer_org.eq(org.clone())),
        ComplaintScope::All => q,
        ComplaintScope::Nothing => q.filter(complaints::id.eq("").and(complaints::id.ne(""))),
    }
}

pub fn insert(conn: &mut DbConnection, row: &ComplaintRow) -> Result<(), StoreError> {
    diesel::insert_into(complaints::table).values(row).execute(conn)?;
    Ok(())
}

/// One complaint, only if the caller may see it.
pub fn find_visible(
    conn: &mut DbConnection,
    id: &str,
    scope: &ComplaintScope,
) -> Result<Option<ComplaintRow>, StoreError> {
    Ok(scoped(scope)
        .filter(complaints::id.eq(id.to_string()))
        .select(ComplaintRow::as_select())
        .first(conn)
        .optional()?)
}

/// Writes a changed complaint if nobody changed it since it was read: the row must still carry
/// `row.row_version - 1`; otherwise [`StoreError::Conflict`] and the caller's transaction rolls back.
pub fn update(conn: &mut DbConnection, row: &ComplaintRow) -> Result<(), StoreError> {
    let n = diesel::update(
        complaints::table.filter(complaints::id.eq(&row.id)).filter(complaints::row_version.eq(row.row_version - 1)),
    )
    .set(row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("complaint {} changed since it was read", row.id)))
    }
}

/// A page of complaints visible in `scope`, newest first, and whether more follow.
pub fn list(
    conn: &mut DbConnection,
    scope: &ComplaintScope,
    f: &ComplaintFilter,
) -> Result<(Vec<ComplaintRow>, bool), StoreError> {
    let mut q = scoped(scope);
    if let Some(v) = &f.status {
        q = q.filter(complaints::status.eq(v.clone()));
    }
    if let Some(v) = &f.service_key {
        q = q.filter(complaints::service_key.eq(v.clone()));
    }
    if let Some(v) = &f.provider_id {
        q = q.filter(complaints::provider_id.eq(v.clone()));
    }
    if let Some(v) = &f.application_id {
        q = q.filter(complaints::application_id.eq(v.clone()));
    }
    if let Some(c) = &f.before_id {
        q = q.filter(complaints::id.lt(c.clone()));
    }
    let limit = f.limit.clamp(1, 200);
    let mut rows: Vec<ComplaintRow> =
        q.order(complaints::id.desc()).limit(limit + 1).select(ComplaintRow::as_select()).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Every complaint visible in `scope` (optionally one provider's), for the monitoring view.
pub fn all_visible(
    conn: &mut DbConnection,
    scope: &ComplaintScope,
    provider_id: Option<&str>,
) -> Result<Vec<ComplaintRow>, StoreError> {
    let mut q = scoped(scope);
    if let Some(p) = provider_id {
        q = q.filter(complaints::provider_id.eq(p.to_string()));
    }
    Ok(q.order(complaints::id.asc()).select(ComplaintRow::as_select()).load(conn)?)
}

/// The history of the given applications, by application and position (for the monitoring view;
/// queried in chunks to stay under SQLite's bound-parameter limit).
pub fn history_of(conn: &mut DbConnection, application_ids: &[String]) -> Result<Vec<HistoryRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in application_ids.chunks(500) {
        let rows: Vec<HistoryRow> = application_history::table
            .filter(application_history::application_id.eq_any(chunk.to_vec()))
            .order((application_history::application_id.asc(), application_history::seq.asc()))
            .select(HistoryRow::as_select())
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}
