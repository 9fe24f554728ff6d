//! The provider's head satisfies or forwards a complaint; the review body decides it. Each step is
//! `domain::complaint::step`, stored in one transaction with the entry on the application's history,
//! its event, the applicant's notice, and the application reopened when the complaint succeeded.

use actix_web::{post, web, HttpResponse};
use domain::application::{decide, Command, Context};
use domain::complaint::{self, ComplaintActor, ComplaintCommand, Outcome};
use persistence::applications as apps;
use persistence::complaints as repo;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::procedure::{complaint_scope, concurrent, official, passport_of, store};
use crate::state::AppState;
use crate::views::complaints::ComplaintView;

/// One step on a complaint: 404 unless visible, then the domain's rules (403 for the wrong role, 409
/// in the wrong state), then the change, in one transaction: any error rolls it all back.
async fn step(
    state: &web::Data<AppState>,
    who: Principal,
    id: String,
    cmd: ComplaintCommand,
) -> Result<HttpResponse, ApiError> {
    let state2 = state.clone();
    let who2 = who.clone();
    let now = state.clock.now();
    let done = web::block(move || {
        let (cal, catalog) = (state2.calendar(), state2.catalog());
        let me = official(&who2);
        state2.db.write_with(|c| {
            let complaint = repo::find_visible(c, &id, &complaint_scope(&who2))?
                .ok_or_else(|| ApiError::not_found("no such complaint"))?;
            let app = apps::find(c, &complaint.application_id)?
                .ok_or_else(|| ApiError::Internal(format!("complaint {id}: its application is gone")))?;
            let acting = ComplaintActor { official: &me, org: who2.org() };
            let change = complaint::step(&complaint, &app, cmd, &acting, &cal, now)?;
            repo::update(c, &change.complaint).map_err(concurrent("complaint"))?;
            apps::record(c, &app, &change.history, &change.event, Some(&change.notice))
                .map_err(concurrent("application"))?;
            if let Some(reason) = change.reopen {
                let passport = passport_of(&catalog, &app)?;
                let reopen = Command::Reopen { complaint_id: change.complaint.id.clone(), reason };
                let reopened = decide(&app, reopen, &Context { passport, calendar: &cal, actor: &me, now })?;
                store(c, &state2.signer, reopened)?;
            }
            Ok::<_, ApiError>(change.complaint)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(ComplaintView::new(done, &who, now)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The income certificate was overlooked; the application goes back for a new decision."}))]
pub struct SatisfyCommand {
    #[validate(length(min = 1, max = 8000))]
    #[schema(min_length = 1, max_length = 8000)]
    pub reason: String,
}

/// The provider's head fully satisfies the complaint (it is then not forwarded, 004:182-185); a
/// decided application is reopened for a new decision in the same transaction. On time when done
/// within 3 working days of receipt.
#[utoipa::path(
    tag = "complaints", operation_id = "satisfyComplaint",
    params(("id" = String, Path, description = "Complaint id")),
    request_body(content = SatisfyCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Satisfied", body = ComplaintView),
        (status = 409, description = "Not allowed in the complaint's state; `allowed_actions` lists what is. Or `concurrent_change`: the complaint or its application changed meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/complaints/{id}/satisfy")]
pub async fn satisfy(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<SatisfyCommand>,
) -> Result<HttpResponse, ApiError> {
    step(&state, who, id.into_inner(), ComplaintCommand::Satisfy { reason: body.0.reason }).await
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "The provider upholds its refusal of free_school_meals; forwarded to the review body"}))]
pub struct ForwardCommand {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// The provider's head forwards the complaint to the review body (`quality-agency`), which reviews it
/// within 15 working days of its registration there. On time when forwarded within 3 working days of
/// receipt (004:179-181).
#[utoipa::path(
    tag = "complaints", operation_id = "forwardComplaint",
    params(("id" = String, Path, description = "Complaint id")),
    request_body(content = ForwardCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Forwarded; `review_due_at` is the review body's deadline", body = ComplaintView),
        (status = 409, description = "Not allowed in the complaint's state, or `concurrent_change`: the complaint or its application changed meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/complaints/{id}/forward")]
pub async fn forward(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<ForwardCommand>,
) -> Result<HttpResponse, ApiError> {
    step(&state, who, id.into_inner(), ComplaintCommand::Forward { comment: body.0.comment }).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "upheld", "reason": "The hearing's evidence was not weighed; the provider must decide again."}))]
pub struct DecideCommand {
    /// `upheld` (the application is reopened for a new decision) or `rejected`.
    #[schema(schema_with = crate::views::codes::review_outcome)]
    pub outcome: String,
    #[validate(length(min = 1, max = 8000))]
    #[schema(min_length = 1, max_length = 8000)]
    pub reason: String,
}

/// The review body decides a forwarded complaint: `upheld` reopens a decided application for a new
/// decision in the same transaction; `rejected` closes the complaint. On time within 15 working days
/// of its registration at the review body (004:189-190).
#[utoipa::path(
    tag = "complaints", operation_id = "decideComplaint",
    params(("id" = String, Path, description = "Complaint id")),
    request_body(content = DecideCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Decided", body = ComplaintView),
        (status = 409, description = "Not allowed in the complaint's state, or `concurrent_change`: the complaint or its application changed meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/complaints/{id}/decide")]
pub async fn decide_complaint(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<DecideCommand>,
) -> Result<HttpResponse, ApiError> {
    let cmd = body.0;
    let outcome = match Outcome::parse(&cmd.outcome) {
        Some(o @ (Outcome::Upheld | Outcome::Rejected)) => o,
        _ => return Err(ApiError::field("outcome", "enum", "one of: upheld, rejected")),
    };
    step(&state, who, id.into_inner(), ComplaintCommand::Decide { outcome, reason: cmd.reason }).await
}
