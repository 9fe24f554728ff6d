//! The commands that move an application through the procedure of order No 414 and the
//! Administrative Procedural Code: accept or refuse at intake, assign, approve, preliminary refusal with
//! a hearing, the hearing, the motivated refusal, withdrawal. The rules are `domain::application::
//! commands`; a route here parses the command and runs it through
//! [`crate::procedure::run_command`].
//!
//! Each command is one transaction: the state check, the change, its history entry, its event and the
//! applicant's notification commit together or not at all. `If-Match` (the ETag of the application)
//! makes a stale command fail with 412; without it, the optimistic row version still lets only one of
//! two concurrent decisions win (the other gets 409).

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::application::Command;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::procedure::run_command as run;
use crate::state::AppState;
use crate::views::applications::ApplicationView;

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "Complete: application, identity document and birth certificate of the child (free_school_meals)"}))]
pub struct AcceptCommand {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Accept (register) a complete application: its term runs from filing.
#[utoipa::path(
    tag = "lifecycle", operation_id = "acceptApplication",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = AcceptCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state; `allowed_actions` lists what is", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`).", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/accept")]
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<AcceptCommand>,
) -> Result<HttpResponse, ApiError> {
    let comment = body.0.comment;
    run(&req, &state, who, id.into_inner(), Command::Accept { comment }).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"missing_documents": ["identity_document"], "comment": "no identity document"}))]
pub struct RefuseIntakeCommand {
    /// Codes of the passport's documents that are missing.
    #[serde(default)]
    pub missing_documents: Vec<String>,
    /// Codes of the passport's documents submitted with an expired validity.
    #[serde(default)]
    pub expired_documents: Vec<String>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Refuse to accept an incomplete or expired set of documents, with the receipt's list of what is
/// missing (the refusal-receipt forms of order No 414).
#[utoipa::path(
    tag = "lifecycle", operation_id = "refuseApplicationAtIntake",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = RefuseIntakeCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Refused at intake; `decision` holds the receipt", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`). Beyond the schema, the rules of the \
passport and the procedure: at least one of `missing_documents` and `expired_documents` listed (`required`), each a \
document code of the application's passport (`not_a_document_of_the_passport`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/refuse-intake")]
pub async fn refuse_intake(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<RefuseIntakeCommand>,
) -> Result<HttpResponse, ApiError> {
    let c = body.0;
    let cmd = Command::RefuseIntake {
        missing_documents: c.missing_documents,
        expired_documents: c.expired_documents,
        comment: c.comment,
    };
    run(&req, &state, who, id.into_inner(), cmd).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assignee": "emp-1"}))]
pub struct AssignCommand {
    /// The `sub` of an employee (or the head) in the provider's staff directory.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub assignee: String,
}

/// The head assigns the application to an employee (or reassigns it).
#[utoipa::path(
    tag = "lifecycle", operation_id = "assignApplication",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = AssignCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Assigned; in progress", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`). Beyond the schema, the rules of the \
procedure: `assignee` an active employee or head of the application's provider, in its staff directory \
(`not_an_employee`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/assign")]
pub async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<AssignCommand>,
) -> Result<HttpResponse, ApiError> {
    let assignee = body.0.assignee;
    // Whether the assignee is on the provider's staff is looked up in the transaction.
    run(&req, &state, who, id.into_inner(), Command::Assign { assignee, on_staff: false }).await
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"result_code": "meals_certificate", "comment": "The child is in the targeted social assistance category"}))]
pub struct ApproveCommand {
    /// The result kind from the passport's `results` (default: the first).
    pub result_code: Option<String>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Issue the result.
#[utoipa::path(
    tag = "lifecycle", operation_id = "approveApplication",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = ApproveCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Approved; `decision` holds the result", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`). Beyond the schema, the rules of the \
passport: `result_code` one of the results of the application's passport (`not_a_result_of_the_passport`; \
`required` when the passport states none)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/approve")]
pub async fn approve(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<ApproveCommand>,
) -> Result<HttpResponse, ApiError> {
    let c = body.0;
    run(&req, &state, who, id.into_inner(), Command::Approve { result_code: c.result_code, comment: c.comment }).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grounds": ["unreliable_documents"], "hearing_at": "2026-11-27T06:00:00Z", "hearing_place": "Astana, Mangilik El 8, room 204", "comment": "the income certificate contradicts the registry"}))]
pub struct PreliminaryRefusalCommand {
    /// Codes of the passport's refusal grounds (at least one).
    #[validate(length(min = 1, message = "cite at least one ground of the passport"))]
    #[schema(min_items = 1)]
    pub grounds: Vec<String>,
    /// When the applicant will be heard (after now, before the term ends).
    pub hearing_at: DateTime<Utc>,
    #[validate(length(min = 3, max = 500))]
    #[schema(min_length = 3, max_length = 500)]
    pub hearing_place: String,
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub comment: Option<String>,
}

/// Send a preliminary refusal with the hearing's time and place (APC art. 73). Allowed only while at
/// least 3 working days of the term remain (or the passport's own notice term), on the calendar.
#[utoipa::path(
    tag = "lifecycle", operation_id = "preliminarilyRefuseApplication",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = PreliminaryRefusalCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Preliminary refusal sent", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state, or too late: the notice must go out at least 3 working days before the term ends", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`). Beyond the schema, the rules of the \
passport and the procedure: each of `grounds` a refusal ground of the application's passport \
(`not_a_ground_of_the_passport`), `hearing_at` after now and before the term ends (`within_term`, APC art. 73)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/preliminary-refusal")]
pub async fn preliminary_refusal(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<PreliminaryRefusalCommand>,
) -> Result<HttpResponse, ApiError> {
    let c = body.0;
    let cmd = Command::PreliminaryRefusal {
        grounds: c.grounds,
        hearing_at: c.hearing_at,
        hearing_place: c.hearing_place,
        comment: c.comment,
    };
    run(&req, &state, who, id.into_inner(), cmd).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"applicant_position": "The income certificate was issued before the raise; the new one is attached.", "evidence": ["income certificate of 2026-11-20"]}))]
pub struct HearingCommand {
    /// What the applicant said or submitted in writing.
    #[validate(length(min = 1, max = 8000))]
    #[schema(min_length = 1, max_length = 8000)]
    pub applicant_position: String,
    /// New evidence the applicant brought.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// When the hearing took place (default: now; never in the future).
    pub held_at: Option<DateTime<Utc>>,
}

/// Record the hearing (APC art. 74): the applicant's position and evidence. The final decision is then
/// due within the passport's term after the hearing (1 or 2 working days).
#[utoipa::path(
    tag = "lifecycle", operation_id = "recordHearing",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = HearingCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Hearing recorded; `stage_due_at` is the deadline of the final decision", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`). Beyond the schema, the rules of the \
procedure: `held_at` not in the future (`not_in_future`) nor before the preliminary refusal that set the hearing \
(`after_the_notice`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/hearing")]
pub async fn record_hearing(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<HearingCommand>,
) -> Result<HttpResponse, ApiError> {
    let c = body.0;
    let cmd =
        Command::RecordHearing { applicant_position: c.applicant_position, evidence: c.evidence, held_at: c.held_at };
    run(&req, &state, who, id.into_inner(), cmd).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grounds": ["unreliable_documents"], "motivation": "The income certificate submitted contradicts the pension contributions registry; the applicant brought no new evidence at the hearing."}))]
pub struct RefuseCommand {
    /// Grounds of the passport, each cited in the preliminary refusal (at least one).
    #[validate(length(min = 1, message = "cite at least one ground of the passport"))]
    #[schema(min_items = 1)]
    pub grounds: Vec<String>,
    /// Why each ground applies, taking the hearing into account.
    #[validate(length(min = 10, max = 8000))]
    #[schema(min_length = 10, max_length = 8000)]
    pub motivation: String,
}

/// Issue the motivated refusal after the hearing, on grounds the preliminary refusal cited.
#[utoipa::path(
    tag = "lifecycle", operation_id = "refuseApplication",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = RefuseCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Refused; `decision` holds the motivated refusal", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state (a refusal needs a hearing first)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`). Beyond the schema, the rules of the \
passport and the procedure: each of `grounds` a refusal ground of the application's passport \
(`not_a_ground_of_the_passport`) cited in the preliminary refusal, so the applicant was heard on it (`not_heard`, APC \
art. 73-74)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/refuse")]
pub async fn refuse(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<RefuseCommand>,
) -> Result<HttpResponse, ApiError> {
    let c = body.0;
    run(&req, &state, who, id.into_inner(), Command::Refuse { grounds: c.grounds, motivation: c.motivation }).await
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The school already provides meals to the child"}))]
pub struct WithdrawCommand {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// The applicant withdraws the application before a decision.
#[utoipa::path(
    tag = "lifecycle", operation_id = "withdrawApplication",
    params(("id" = String, Path, description = "Application id"), super::IfMatch),
    request_body(content = WithdrawCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Withdrawn", body = ApplicationView),
        (status = 409, description = "Already decided", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version than the current one: the application changed since you read it (RFC 9110 §13.1.1)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem (`format` on `header.If-Match` for an `If-Match` other than `*`, \
`\"N\"` or `W/\"N\"`).", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<WithdrawCommand>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason;
    run(&req, &state, who, id.into_inner(), Command::Withdraw { reason }).await
}
