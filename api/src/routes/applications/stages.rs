//! `POST /api/v1/applications/{id}/stage-events`: staff record when an internal stage started or
//! ended, so each of the passport's stage terms is tracked against its own start.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::application::{Command, StageEvent};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::procedure::run_command;
use crate::state::AppState;
use crate::views::applications::ApplicationView;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"term": "send_to_state_bodies", "event": "completed", "note": "sent to the MFA and the MIA, letters 12-3/456 and 12-3/457"}))]
pub struct StageEventCommand {
    /// The code of one of the passport's terms for this application (see `stage_deadlines`).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub term: String,
    /// `started` or `completed`.
    #[validate(custom(function = "started_or_completed"))]
    #[schema(schema_with = crate::views::codes::stage_event)]
    pub event: String,
    /// When it happened (default: now; never in the future).
    pub at: Option<DateTime<Utc>>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

fn started_or_completed(v: &str) -> Result<(), validator::ValidationError> {
    match StageEvent::parse(v) {
        Some(_) => Ok(()),
        None => Err(validator::ValidationError::new("enum").with_message("must be `started` or `completed`".into())),
    }
}

/// Record the start or completion of an internal stage (e.g. the documents sent to other state bodies,
/// their answer received), so each of the passport's stage terms is tracked against its own start.
#[utoipa::path(
    tag = "lifecycle", operation_id = "recordStageEvent",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = StageEventCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; see `GET .../actions` for the stage deadlines", body = ApplicationView),
        (status = 409, description = "The application is already decided", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`). Beyond the schema, the rules of the \
passport and the procedure: `term` one of the passport's terms for this application's channel and subtype \
(`not_a_term_of_the_passport`, see `GET .../actions` `stage_deadlines`), `at` not in the future (`not_in_future`) nor before the filing \
(`after_filing`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/stage-events")]
pub async fn record_stage_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<StageEventCommand>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head])?;
    let c = body.0;
    let event = StageEvent::parse(&c.event)
        .ok_or_else(|| ApiError::field("event", "enum", "must be `started` or `completed`"))?;
    let cmd = Command::RecordStage { term: c.term, event, at: c.at, note: c.note };
    run_command(&req, &state, who, id.into_inner(), cmd).await
}
