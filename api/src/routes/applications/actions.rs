//! `GET /api/v1/applications/{id}/actions`: what the caller may do now, and the application's clock,
//! every figure from `domain::application::timing`.

use actix_web::{get, web, HttpResponse};
use domain::application::{allowed_actions, timing};
use persistence::applications as repo;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::procedure::{actor, passport_of, read_visible};
use crate::state::AppState;
use crate::views::applications::{ActionsView, StageDeadline};

/// The actions the caller may take now, the deadlines, and working days elapsed and remaining.
#[utoipa::path(
    tag = "lifecycle", operation_id = "getApplicationActions",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "Allowed actions and deadlines", body = ActionsView),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/applications/{id}/actions")]
pub async fn actions(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // The clock of an application names no one beyond what `GET /applications/{id}` journals.
    let (app, history) = read_visible(&state, &who, id.into_inner(), None, |c, app| {
        let history = repo::history(c, &app.id)?;
        Ok((app, history))
    })
    .await?;
    let (cal, catalog, now) = (state.calendar(), state.catalog(), state.clock.now());
    let passport = passport_of(&catalog, &app)?;
    let today = timing::local_date(&cal, now);
    let stages = timing::stage_deadlines(&cal, passport, &app, &repo::timeline(&history), now);
    Ok(HttpResponse::Ok().json(ActionsView {
        status: app.status.code().into(),
        allowed_actions: allowed_actions(app.status, actor(who.role)).iter().map(|a| a.code().to_string()).collect(),
        due_at: app.due_at,
        due_date: app.due_date,
        preliminary_refusal_cutoff: timing::preliminary_refusal_cutoff(&cal, passport, &app),
        stage_due_at: app.stage_due_at,
        working_days_elapsed: timing::working_days_elapsed(&cal, &app, today),
        working_days_remaining: timing::working_days_remaining(&cal, &app, today),
        overdue: timing::is_overdue(&app, now),
        stage_deadlines: stages.into_iter().map(StageDeadline::new).collect(),
    }))
}
