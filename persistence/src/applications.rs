//! Applications and their history.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{application_history, applications};
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = applications)]
// Updates write the whole row: a field set to None (a decision cleared on reopening) becomes NULL.
#[diesel(treat_none_as_null = true)]
pub struct ApplicationRow {
    pub id: String,
    pub registration_number: String,
    pub service_key: String,
    pub passport_version: String,
    pub subtype: Option<String>,
    pub channel: String,
    pub status: String,
    pub applicant_iin: String,
    pub filed_by: String,
    pub filed_by_role: String,
    pub intake_org_id: Option<String>,
    pub provider_id: String,
    pub assignee: Option<String>,
    /// JSON: the representative's details and power of attorney, when one files for the applicant.
    pub representative: Option<String>,
    /// JSON: the form as submitted.
    pub form_data: String,
    pub submitted_at: NaiveDateTime,
    pub counted_from: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub due_date: NaiveDate,
    pub decided_at: Option<NaiveDateTime>,
    /// Incremented by every change; the API's ETag.
    pub row_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The deadline of the current internal stage (e.g. the final answer after the hearing).
    pub stage_due_at: Option<NaiveDateTime>,
    pub hearing_at: Option<NaiveDateTime>,
    pub hearing_place: Option<String>,
    /// JSON: the decision taken (outcome, grounds with text and source, result, motivation).
    pub decision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = application_history)]
pub struct HistoryRow {
    pub id: String,
    pub application_id: String,
    /// Position within the application's history, from 1.
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_sub: String,
    pub actor_role: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reason: Option<String>,
    /// JSON object: field → {old, new}.
    pub changes: String,
}

/// Who may see which applications: the caller's scope, applied in the query so that nothing outside
/// it is ever loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// An applicant: their own applications.
    Applicant(String),
    /// Provider staff: applications addressed to their organisation.
    Provider(String),
    /// State Corporation operators: applications filed at their centre.
    IntakeCentre(String),
    /// The complaint review body: applications with a complaint forwarded to it.
    ReviewBody(String),
    /// Administrators.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub service_key: Option<String>,
    pub status: Option<String>,
    pub channel: Option<String>,
    pub provider_id: Option<String>,
    pub assignee: Option<String>,
    /// Only applications whose due moment is before this one and that are still open.
    pub overdue_at: Option<NaiveDateTime>,
    /// Keyset cursor: only ids smaller than this (ids are time-ordered UUIDv7, so newest first).
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Statuses in which no term runs any more.
pub const FINAL_STATUSES: [&str; 4] = ["refused_at_intake", "approved", "refused", "withdrawn"];

pub fn insert(conn: &mut DbConnection, row: &ApplicationRow) -> Result<(), StoreError> {
    diesel::insert_into(applications::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ApplicationRow>, StoreError> {
    Ok(applications::table
        .filter(applications::id.eq(id))
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Writes a changed application if nobody changed it since it was read (optimistic concurrency): the
/// row must still carry `row.row_version - 1`. Otherwise [`StoreError::Conflict`], and the caller's
/// transaction rolls back.
pub fn update(conn: &mut DbConnection, row: &ApplicationRow) -> Result<(), StoreError> {
    let n = diesel::update(
        applications::table
            .filter(applications::id.eq(&row.id))
            .filter(applications::row_version.eq(row.row_version - 1)),
    )
    .set(row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("application {} changed since it was read", row.id)))
    }
}

/// Every application whose term still runs (not in a final state), oldest first.
pub fn open(conn: &mut DbConnection) -> Result<Vec<ApplicationRow>, StoreError> {
    Ok(applications::table
        .filter(applications::status.ne_all(FINAL_STATUSES))
        .order(applications::id.asc())
        .select(ApplicationRow::as_select())
        .load(conn)?)
}

/// One application, only if the caller may see it: otherwise `None`, exactly as if it did not exist.
pub fn find_visible(conn: &mut DbConnection, id: &str, who: &Visibility) -> Result<Option<ApplicationRow>, StoreError> {
    let q = scoped(who).filter(applications::id.eq(id.to_string()));
    Ok(q.select(ApplicationRow::as_select()).first(conn).optional()?)
}

fn scoped<'a>(who: &Visibility) -> applications::BoxedQuery<'a, crate::db::MultiBackend> {
    let q = applications::table.into_boxed();
    match who {
        Visibility::Applicant(iin) => q.filter(applications::applicant_iin.eq(iin.clone())),
        Visibility::Provider(org) => q.filter(applications::provider_id.eq(org.clone())),
        Visibility::IntakeCentre(org) => q.filter(applications::intake_org_id.eq(org.clone())),
        Visibility::ReviewBody(org) => q.filter(
            applications::id.eq_any(
                crate::schema::complaints::table
                    .filter(crate::schema::complaints::reviewer_org.eq(org.clone()))
                    .select(crate::schema::complaints::application_id),
            ),
        ),
        Visibility::All => q,
    }
}

/// A page of applications visible to `who`, newest first, and whether more follow.
pub fn list(
    conn: &mut DbConnection,
    who: &Visibility,
    f: &ListFilter,
) -> Result<(Vec<ApplicationRow>, bool), StoreError> {
    let mut q = scoped(who);
    if let Some(v) = &f.service_key {
        q = q.filter(applications::service_key.eq(v.clone()));
    }
    if let Some(v) = &f.status {
        q = q.filter(applications::status.eq(v.clone()));
    }
    if let Some(v) = &f.channel {
        q = q.filter(applications::channel.eq(v.clone()));
    }
    if let Some(v) = &f.provider_id {
        q = q.filter(applications::provider_id.eq(v.clone()));
    }
    if let Some(v) = &f.assignee {
        q = q.filter(applications::assignee.eq(v.clone()));
    }
    if let Some(at) = f.overdue_at {
        q = q.filter(applications::due_at.lt(at)).filter(applications::status.ne_all(FINAL_STATUSES));
    }
    if let Some(c) = &f.before_id {
        q = q.filter(applications::id.lt(c.clone()));
    }
    let limit = f.limit.clamp(1, 200);
    let mut rows: Vec<ApplicationRow> =
        q.order(applications::id.desc()).limit(limit + 1).select(ApplicationRow::as_select()).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Appends a history entry with the next position in the application's history.
pub fn append_history(conn: &mut DbConnection, mut entry: HistoryRow) -> Result<HistoryRow, StoreError> {
    let last: Option<i64> = application_history::table
        .filter(application_history::application_id.eq(&entry.application_id))
        .select(diesel::dsl::max(application_history::seq))
        .first(conn)?;
    entry.seq = last.unwrap_or(0) + 1;
    diesel::insert_into(application_history::table).values(&entry).execute(conn)?;
    Ok(entry)
}

pub fn history(conn: &mut DbConnection, application_id: &str) -> Result<Vec<HistoryRow>, StoreError> {
    Ok(application_history::table
        .filter(application_history::application_id.eq(application_id))
        .order(application_history::seq.asc())
        .select(HistoryRow::as_select())
        .load(conn)?)
}
