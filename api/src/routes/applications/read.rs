//! Reading applications: one by id, a page of those the caller may see, and one's history.

use actix_web::{get, http::header, web, HttpRequest, HttpResponse};
use domain::application::Status;
use domain::passport::Channel;
use persistence::applications::{self as repo, ListFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::{self, AccessKind, Reader};
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::extract::ValidQuery;
use crate::procedure::{read_visible, visibility};
use crate::schema::{channel_schema, status_schema};
use crate::state::AppState;
use crate::views::applications::{ApplicationPage, ApplicationView, HistoryEntry};

/// Read one application: applicants their own, staff their organisation's.
#[utoipa::path(
    tag = "applications",
    operation_id = "getApplication",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = ApplicationView, headers(("ETag" = String, description = "The application's version, for If-Match"))),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/applications/{id}")]
pub async fn get_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let journal = Some((Reader::of(&req, &who), AccessKind::Application));
    let app = read_visible(&state, &who, id.into_inner(), journal, |_, app| Ok(app)).await?;
    let view = ApplicationView::new(app);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, view.etag())).json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListApplicationsQuery {
    #[param(max_length = 64)]
    pub service_key: Option<String>,
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    #[param(schema_with = channel_schema)]
    pub channel: Option<String>,
    /// Only applications addressed to this provider (within what the caller may see).
    #[param(max_length = 64)]
    pub provider_id: Option<String>,
    /// Only applications assigned to the caller.
    pub assigned_to_me: Option<bool>,
    /// Only open applications whose term has ended.
    pub overdue: Option<bool>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 64)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// List the applications the caller may see, newest first, with keyset pagination.
#[utoipa::path(
    tag = "applications",
    operation_id = "listApplications",
    params(ListApplicationsQuery),
    responses((status = 200, description = "A page of applications", body = ApplicationPage)),
    security(("bearer" = [])),
)]
#[get("/applications")]
pub async fn list_applications(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListApplicationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let mut errors = Vec::new();
    let status = q.status.as_deref().map(Status::parse);
    if status == Some(None) {
        errors.push(FieldError::new("query.status", "enum", "not a known status"));
    }
    let channel = q.channel.as_deref().map(Channel::parse);
    if channel == Some(None) {
        errors.push(FieldError::new("query.channel", "enum", "not a known channel"));
    }
    if q.limit.is_some_and(|l| !(1..=200).contains(&l)) {
        errors.push(FieldError::new("query.limit", "range", "must be between 1 and 200"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = ListFilter {
        service_key: q.service_key,
        status: status.flatten(),
        channel: channel.flatten(),
        provider_id: q.provider_id,
        assignee: q.assigned_to_me.unwrap_or(false).then(|| who.sub.clone()),
        overdue_at: q.overdue.unwrap_or(false).then(|| state.clock.now()),
        before_id: q.cursor,
        limit: q.limit.unwrap_or(50),
    };
    let scope = visibility(&who);
    let reader = Reader::of(&req, &who);
    let (apps, more) = web::block(move || {
        state.db.read(|c| {
            // Each application listed is a read of its applicant's data: one journal entry each,
            // written with the page.
            let reading = access::reading(&reader, AccessKind::Application, state.clock.now());
            repo::list(c, &scope, &filter, Some(&reading))
        })
    })
    .await??;
    let next_cursor = if more { apps.last().map(|a| a.id.clone()) } else { None };
    Ok(HttpResponse::Ok()
        .json(ApplicationPage { items: apps.into_iter().map(ApplicationView::new).collect(), next_cursor }))
}

/// The full history of an application, oldest first.
#[utoipa::path(
    tag = "applications",
    operation_id = "getApplicationHistory",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "Every change, oldest first", body = Vec<HistoryEntry>),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/applications/{id}/history")]
pub async fn get_application_history(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let journal = Some((Reader::of(&req, &who), AccessKind::ApplicationHistory));
    let entries = read_visible(&state, &who, id.into_inner(), journal, |c, app| Ok(repo::history(c, &app.id)?)).await?;
    let entries: Vec<HistoryEntry> = entries.into_iter().map(|h| HistoryEntry::new(h.seq, h.record)).collect();
    Ok(HttpResponse::Ok().json(entries))
}
