//! The access journal: `/api/v1/me/access-log` (an applicant sees who read their data, as the
//! e-government portal lets citizens do) and `/api/v1/access-log` (administrators, with filters).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::AccessKind;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::state::AppState;
use persistence::access_log::{AccessFilter, AccessRow};

/// One read of personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    /// Position in the journal (the cursor pages by it).
    #[schema(example = "1042")]
    pub id: String,
    pub at: DateTime<Utc>,
    /// Who read: the staff member's id, or the applicant's IIN.
    #[schema(example = "emp-1")]
    pub actor_sub: String,
    #[schema(example = "employee")]
    pub actor_role: String,
    /// The organisation the reader acted for.
    #[schema(example = "astana-education")]
    pub actor_org: Option<String>,
    /// What was read: `application`, `application_history`, `document_list`, `document`,
    /// `registry_record`, `intake_check`, `complaint`.
    #[schema(example = "application")]
    pub kind: String,
    /// The id of what was read.
    pub resource_id: String,
    /// The application the read served.
    pub application_id: Option<String>,
    /// Whose data it was.
    #[schema(example = "900101300126")]
    pub subject_iin: Option<String>,
    /// The request (`X-Request-Id`), to match the server log.
    pub request_id: Option<String>,
}

impl From<AccessRow> for AccessEntry {
    fn from(r: AccessRow) -> Self {
        AccessEntry {
            id: r.id.to_string(),
            at: r.at.and_utc(),
            actor_sub: r.actor_sub,
            actor_role: r.actor_role,
            actor_org: r.actor_org,
            kind: r.kind,
            resource_id: r.resource_id,
            application_id: r.application_id,
            subject_iin: r.subject_iin,
            request_id: r.request_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessPage {
    /// Newest first.
    pub items: Vec<AccessEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyAccessQuery {
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// Reads of this person's data.
    #[param(pattern = "^[0-9]{12}$")]
    pub subject_iin: Option<String>,
    /// Reads by this staff member (or applicant).
    #[param(max_length = 64)]
    pub actor_sub: Option<String>,
    /// Reads by staff of this organisation.
    #[param(max_length = 64)]
    pub actor_org: Option<String>,
    /// Reads serving this application.
    #[param(max_length = 36)]
    pub application_id: Option<String>,
    /// Reads of this kind.
    #[param(
        pattern = "^(application|application_history|document_list|document|registry_record|intake_check|complaint)$"
    )]
    pub kind: Option<String>,
    /// Reads at or after this moment (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Reads before this moment (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn page_args(cursor: Option<&str>, limit: Option<i64>) -> Result<(Option<i64>, i64), ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("query.limit", "range", "must be between 1 and 200"));
    }
    let before = cursor
        .map(|c| {
            c.parse::<i64>()
                .ok()
                // Exactly the spec's pattern, `^[1-9][0-9]{0,17}$`: a journal position, no leading zero.
                .filter(|n| *n > 0 && c.len() <= 18 && !c.starts_with('0') && c.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| ApiError::field("query.cursor", "format", "must be a `next_cursor` of this list"))
        })
        .transpose()?;
    Ok((before, limit))
}

async fn page(
    state: web::Data<AppState>,
    filter: AccessFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<AccessPage, ApiError> {
    let rows =
        web::block(move || state.db.read(|c| persistence::access_log::query(c, &filter, before, limit + 1))).await??;
    let more = rows.len() as i64 > limit;
    let items: Vec<AccessEntry> = rows.into_iter().take(limit as usize).map(AccessEntry::from).collect();
    let next_cursor = if more { items.last().map(|e| e.id.clone()) } else { None };
    Ok(AccessPage { items, next_cursor })
}

/// Who read the caller's personal data (applicants): every read by staff of their applications,
/// documents and registry records, newest first. The caller's own reads are left out.
#[utoipa::path(
    tag = "access-log", operation_id = "listMyAccessLog",
    params(MyAccessQuery),
    responses((status = 200, description = "Reads of the caller's data", body = AccessPage)),
    security(("bearer" = [])),
)]
#[get("/me/access-log")]
pub async fn mine(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<MyAccessQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant])?;
    let (before, limit) = page_args(q.cursor.as_deref(), q.limit)?;
    let filter =
        AccessFilter { subject_iin: Some(who.sub.clone()), exclude_actor: Some(who.sub.clone()), ..Default::default() };
    Ok(HttpResponse::Ok().json(page(state, filter, before, limit).await?))
}

/// The access journal (administrators): every read of personal data, newest first, filtered.
#[utoipa::path(
    tag = "access-log", operation_id = "listAccessLog",
    params(AccessQuery),
    responses((status = 200, description = "Journal entries", body = AccessPage)),
    security(("bearer" = [])),
)]
#[get("/access-log")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<AccessQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let (before, limit) = page_args(q.cursor.as_deref(), q.limit)?;
    if let Some(iin) = &q.subject_iin {
        if iin.len() != 12 || !iin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::field("query.subject_iin", "format", "must be 12 digits"));
        }
    }
    if let Some(kind) = &q.kind {
        if !AccessKind::ALL.iter().any(|k| k.code() == kind) {
            return Err(ApiError::field("query.kind", "enum", "is not a kind of read"));
        }
    }
    for (name, value, max) in
        [("actor_sub", &q.actor_sub, 64), ("actor_org", &q.actor_org, 64), ("application_id", &q.application_id, 36)]
    {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::field(
                &format!("query.{name}"),
                "length",
                format!("must be at most {max} characters"),
            ));
        }
    }
    let filter = AccessFilter {
        subject_iin: q.subject_iin.clone(),
        actor_sub: q.actor_sub.clone(),
        actor_org: q.actor_org.clone(),
        application_id: q.application_id.clone(),
        kind: q.kind.clone(),
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        exclude_actor: None,
    };
    Ok(HttpResponse::Ok().json(page(state, filter, before, limit).await?))
}
