//! Reading complaints: a page of those the caller may see, and one by id.

use actix_web::{get, web, HttpRequest, HttpResponse};
use domain::complaint::ComplaintStatus;
use persistence::complaints::{self as repo, ComplaintFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::{self, AccessKind, Reader};
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::extract::ValidQuery;
use crate::procedure::complaint_scope;
use crate::state::AppState;
use crate::views::complaints::{ComplaintPage, ComplaintView};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListComplaintsQuery {
    /// `registered`, `satisfied`, `forwarded`, `upheld`, `rejected`.
    #[param(value_type = Option<crate::views::codes::ComplaintStatusCode>, inline)]
    pub status: Option<String>,
    #[param(max_length = 64)]
    pub service_key: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 64)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The complaints the caller may see, newest first: applicants their own, provider staff their
/// provider's, the review body those forwarded to it, administrators all.
#[utoipa::path(
    tag = "complaints", operation_id = "listComplaints",
    params(ListComplaintsQuery),
    responses((status = 200, description = "A page of complaints", body = ComplaintPage)),
    security(("bearer" = [])),
)]
#[get("/complaints")]
pub async fn list_complaints(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListComplaintsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let mut errors = Vec::new();
    let status = q.status.as_deref().map(ComplaintStatus::parse);
    if status == Some(None) {
        errors.push(FieldError::new(
            "query.status",
            "enum",
            "one of: registered, satisfied, forwarded, upheld, rejected",
        ));
    }
    if q.limit.is_some_and(|l| !(1..=200).contains(&l)) {
        errors.push(FieldError::new("query.limit", "range", "must be between 1 and 200"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = ComplaintFilter {
        status: status.flatten(),
        service_key: q.service_key,
        before_id: q.cursor,
        limit: q.limit.unwrap_or(50),
        ..Default::default()
    };
    let scope = complaint_scope(&who);
    let now = state.clock.now();
    let reader = Reader::of(&req, &who);
    let (rows, more) = web::block(move || {
        state.db.read(|c| {
            let (rows, more) = repo::list(c, &scope, &filter)?;
            let items =
                rows.iter().map(|r| (r.id.as_str(), Some(r.application_id.as_str()), Some(r.applicant_iin.as_str())));
            access::journal_page(c, &reader, AccessKind::Complaint, items, now)?;
            Ok((rows, more))
        })
    })
    .await??;
    let next_cursor = if more { rows.last().map(|r| r.id.clone()) } else { None };
    Ok(HttpResponse::Ok().json(ComplaintPage {
        items: rows.into_iter().map(|r| ComplaintView::new(r, &who, now)).collect(),
        next_cursor,
    }))
}

/// One complaint, with its terms and whether each was met.
#[utoipa::path(
    tag = "complaints", operation_id = "getComplaint",
    params(("id" = String, Path, description = "Complaint id")),
    responses(
        (status = 200, description = "The complaint", body = ComplaintView),
        (status = 404, description = "No such complaint visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/complaints/{id}")]
pub async fn get_complaint(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = complaint_scope(&who);
    let id = id.into_inner();
    let now = state.clock.now();
    let row = web::block(move || state.db.read(|c| repo::find_visible(c, &id, &scope)))
        .await??
        .ok_or_else(|| ApiError::not_found("no such complaint"))?;
    Ok(HttpResponse::Ok().json(ComplaintView::new(row, &who, now)))
}
