//! Complaints about a provider's decision, action or inaction (order No 414, rules para 38), stored
//! as typed rows and converted here, once, into the domain's [`Complaint`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::application::Official;
use domain::complaint::{Complaint, ComplaintStatus, Due};

use crate::codes::{ActorCode, ComplaintStatusCode, OutcomeCode, StatusCode, SubjectCode};
use crate::schema::complaints;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = complaints)]
#[diesel(treat_none_as_null = true)]
struct ComplaintRow {
    id: String,
    application_id: String,
    applicant_iin: String,
    provider_id: String,
    service_key: String,
    registration_number: String,
    subject: SubjectCode,
    text: String,
    status: ComplaintStatusCode,
    /// The application's status when the complaint was filed.
    application_status: StatusCode,
    registered_at: NaiveDateTime,
    forward_due_at: NaiveDateTime,
    forward_due_date: NaiveDate,
    provider_due_at: NaiveDateTime,
    provider_due_date: NaiveDate,
    reviewer_org: Option<String>,
    forwarded_at: Option<NaiveDateTime>,
    forwarded_by: Option<String>,
    forwarded_on_time: Option<bool>,
    review_due_at: Option<NaiveDateTime>,
    review_due_date: Option<NaiveDate>,
    outcome: Option<OutcomeCode>,
    reason: Option<String>,
    resolved_at: Option<NaiveDateTime>,
    resolved_by: Option<String>,
    resolved_by_role: Option<ActorCode>,
    resolved_on_time: Option<bool>,
    reopened: bool,
    /// JSON array: the terms applied (code, value, unit, source).
    terms: String,
    row_version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn utc(d: NaiveDateTime) -> DateTime<Utc> {
    d.and_utc()
}

impl ComplaintRow {
    fn into_domain(self) -> Result<Complaint, StoreError> {
        let terms = serde_json::from_str(&self.terms)
            .map_err(|e| StoreError::Corrupt(format!("complaint {}: terms: {e}", self.id)))?;
        Ok(Complaint {
            id: self.id,
            application_id: self.application_id,
            applicant_iin: self.applicant_iin,
            provider_id: self.provider_id,
            service_key: self.service_key,
            registration_number: self.registration_number,
            subject: self.subject.0,
            text: self.text,
            status: self.status.0,
            application_status: self.application_status.0,
            registered_at: utc(self.registered_at),
            forward_due: Due { at: utc(self.forward_due_at), date: self.forward_due_date },
            provider_due: Due { at: utc(self.provider_due_at), date: self.provider_due_date },
            reviewer_org: self.reviewer_org,
            forwarded_at: self.forwarded_at.map(utc),
            forwarded_by: self.forwarded_by,
            forwarded_on_time: self.forwarded_on_time,
            review_due: self.review_due_at.zip(self.review_due_date).map(|(at, date)| Due { at: utc(at), date }),
            outcome: self.outcome.map(|o| o.0),
            reason: self.reason,
            resolved_at: self.resolved_at.map(utc),
            resolved_by: self.resolved_by.zip(self.resolved_by_role).map(|(sub, role)| Official::new(sub, role.0)),
            resolved_on_time: self.resolved_on_time,
            reopened: self.reopened,
            terms,
            version: self.row_version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }

    fn of(c: &Complaint) -> ComplaintRow {
        ComplaintRow {
            id: c.id.clone(),
            application_id: c.application_id.clone(),
            applicant_iin: c.applicant_iin.clone(),
            provider_id: c.provider_id.clone(),
            service_key: c.service_key.clone(),
            registration_number: c.registration_number.clone(),
            subject: SubjectCode(c.subject),
            text: c.text.clone(),
            status: ComplaintStatusCode(c.status),
            application_status: StatusCode(c.application_status),
            registered_at: c.registered_at.naive_utc(),
            forward_due_at: c.forward_due.at.naive_utc(),
            forward_due_date: c.forward_due.date,
            provider_due_at: c.provider_due.at.naive_utc(),
            provider_due_date: c.provider_due.date,
            reviewer_org: c.reviewer_org.clone(),
            forwarded_at: c.forwarded_at.map(|d| d.naive_utc()),
            forwarded_by: c.forwarded_by.clone(),
            forwarded_on_time: c.forwarded_on_time,
            review_due_at: c.review_due.map(|d| d.at.naive_utc()),
            review_due_date: c.review_due.map(|d| d.date),
            outcome: c.outcome.map(OutcomeCode),
            reason: c.reason.clone(),
            resolved_at: c.resolved_at.map(|d| d.naive_utc()),
            resolved_by: c.resolved_by.as_ref().map(|o| o.sub.clone()),
            resolved_by_role: c.resolved_by.as_ref().map(|o| ActorCode(o.role)),
            resolved_on_time: c.resolved_on_time,
            reopened: c.reopened,
            terms: serde_json::to_string(&c.terms).unwrap_or_else(|_| "[]".into()),
            row_version: c.version,
            created_at: c.created_at.naive_utc(),
            updated_at: c.updated_at.naive_utc(),
        }
    }
}

fn load_all(rows: Vec<ComplaintRow>) -> Result<Vec<Complaint>, StoreError> {
    rows.into_iter().map(ComplaintRow::into_domain).collect()
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
    pub status: Option<ComplaintStatus>,
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

pub fn insert(conn: &mut DbConnection, c: &Complaint) -> Result<(), StoreError> {
    diesel::insert_into(complaints::table).values(ComplaintRow::of(c)).execute(conn)?;
    Ok(())
}

/// One complaint, only if the caller may see it.
pub fn find_visible(
    conn: &mut DbConnection,
    id: &str,
    scope: &ComplaintScope,
) -> Result<Option<Complaint>, StoreError> {
    scoped(scope)
        .filter(complaints::id.eq(id.to_string()))
        .select(ComplaintRow::as_select())
        .first(conn)
        .optional()?
        .map(ComplaintRow::into_domain)
        .transpose()
}

/// Writes a changed complaint if nobody changed it since it was read: the row must still carry
/// `c.version - 1`; otherwise [`StoreError::Conflict`] and the caller's transaction rolls back.
pub fn update(conn: &mut DbConnection, c: &Complaint) -> Result<(), StoreError> {
    let row = &ComplaintRow::of(c);
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
) -> Result<(Vec<Complaint>, bool), StoreError> {
    let mut q = scoped(scope);
    if let Some(v) = f.status {
        q = q.filter(complaints::status.eq(ComplaintStatusCode(v)));
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
    Ok((load_all(rows)?, more))
}

/// Every complaint visible in `scope` (optionally one provider's), for the monitoring view.
pub fn all_visible(
    conn: &mut DbConnection,
    scope: &ComplaintScope,
    provider_id: Option<&str>,
) -> Result<Vec<Complaint>, StoreError> {
    let mut q = scoped(scope);
    if let Some(p) = provider_id {
        q = q.filter(complaints::provider_id.eq(p.to_string()));
    }
    load_all(q.order(complaints::id.asc()).select(ComplaintRow::as_select()).load(conn)?)
}
