//! `/api/v1/me/notifications`: what the applicant was told about their applications, in their language.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::text::Lang;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::{request_lang, ValidQuery};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub application_id: String,
    /// `status.<new status>`.
    #[schema(example = "status.accepted")]
    pub kind: String,
    /// The text in the requested language.
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// Language of the texts (`kk`, `ru`, `en`); else `Accept-Language`, else `kk`.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The caller's notifications (applicants), newest first.
#[utoipa::path(
    tag = "notifications", operation_id = "listMyNotifications",
    params(NotificationsQuery),
    responses((status = 200, description = "Notifications", body = NotificationPage)),
    security(("bearer" = [])),
)]
#[get("/me/notifications")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<NotificationsQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant])?;
    let lang = request_lang(&req, q.lang.as_deref())?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("query.limit", "range", "must be between 1 and 200"));
    }
    let cursor = q.cursor.clone();
    let iin = who.sub.clone();
    let rows = web::block(move || {
        state.db.read(|c| persistence::notifications::for_recipient(c, &iin, cursor.as_deref(), limit + 1))
    })
    .await??;
    let more = rows.len() as i64 > limit;
    let items: Vec<NotificationView> = rows
        .into_iter()
        .take(limit as usize)
        .map(|n| NotificationView {
            text: match lang {
                Lang::Kk => n.text_kk,
                Lang::Ru => n.text_ru,
                Lang::En => n.text_en,
            },
            id: n.id,
            application_id: n.application_id,
            kind: n.kind,
            created_at: n.created_at.and_utc(),
            read_at: n.read_at.map(|r| r.and_utc()),
        })
        .collect();
    let next_cursor = if more { items.last().map(|n| n.id.clone()) } else { None };
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Language", lang.code()))
        .json(NotificationPage { items, next_cursor }))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(
    tag = "notifications", operation_id = "markNotificationRead",
    params(("id" = String, Path, description = "Notification id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 404, description = "No such notification of the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/me/notifications/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant])?;
    let now = state.clock.now().naive_utc();
    let id = id.into_inner();
    let iin = who.sub.clone();
    let found =
        web::block(move || state.db.write(|c| persistence::notifications::mark_read(c, &iin, &id, now))).await??;
    if found {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("no such notification"))
    }
}
