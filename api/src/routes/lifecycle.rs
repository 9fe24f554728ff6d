//! `/api/v1/applications/{id}/...`: the commands that move an application through the procedure of
//! order No 414 and the Administrative Procedural Code: accept or refuse at intake, assign, approve,
//! preliminary refusal with a hearing, the hearing, the motivated refusal, withdrawal.
//!
//! Each command is one transaction: the state check, the change, its history entry, its event and the
//! applicant's notification commit together or not at all. `If-Match` (the ETag of the application)
//! makes a stale command fail with 412; without it, the optimistic row version still lets only one of
//! two concurrent decisions win (the other gets 409).

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::application::{allowed_actions, transition, Action, Actor, Status, TransitionError};
use domain::calendar::BusinessCalendar;
use domain::passport::{Passport, Stage};
use persistence::applications::{self as repo, ApplicationRow, HistoryRow};
use persistence::notifications::NotificationRow;
use persistence::{events, DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::documents::ResultDocumentKind;
use crate::error::{ApiError, FieldError};
use crate::extract::ValidJson;
use crate::routes::applications::{visibility, ApplicationView};
use crate::state::AppState;

/// The preliminary refusal goes out no later than this many working days before the term ends
/// (Administrative Procedural Code art. 73, repeated in every 2022 passport) unless the passport
/// states its own `preliminary_refusal_notice` term.
const DEFAULT_NOTICE_WORKING_DAYS: u32 = 3;

pub fn actor(role: Role) -> Actor {
    match role {
        Role::Applicant => Actor::Applicant,
        Role::Operator => Actor::Operator,
        Role::Employee => Actor::Employee,
        Role::Head => Actor::Head,
        Role::Reviewer => Actor::Reviewer,
        Role::Admin => Actor::Admin,
    }
}

/// The texts of the applicant's notification for a new status, in kk, ru and en.
pub fn status_texts(status: Status, number: &str) -> [String; 3] {
    let (kk, ru, en) = match status {
        Status::Submitted => ("өтініш берілді", "заявление подано", "has been submitted"),
        Status::Accepted => {
            ("өтініш қабылданып, тіркелді", "заявление принято и зарегистрировано", "has been accepted and registered")
        }
        Status::RefusedAtIntake => (
            "құжаттар топтамасы толық болмағандықтан, өтінішті қабылдаудан бас тартылды",
            "в приёме заявления отказано: пакет документов неполный",
            "was not accepted: the set of documents is incomplete",
        ),
        Status::InProgress => ("өтініш орындалуда", "заявление на исполнении", "is being processed"),
        Status::PreliminaryRefusal => (
            "бас тарту туралы алдын ала шешім қабылданды, тыңдауға шақырыласыз",
            "принято предварительное решение об отказе, вы приглашены на заслушивание",
            "a preliminary refusal was issued; you are invited to a hearing",
        ),
        Status::HearingHeld => ("тыңдау өткізілді", "заслушивание проведено", "the hearing was held"),
        Status::Approved => (
            "мемлекеттік қызмет көрсетілді, нәтиже дайын",
            "государственная услуга оказана, результат готов",
            "the service was provided; the result is ready",
        ),
        Status::Refused => (
            "мемлекеттік қызмет көрсетуден дәлелді бас тарту берілді",
            "выдан мотивированный отказ в оказании государственной услуги",
            "a motivated refusal of the service was issued",
        ),
        Status::Withdrawn => ("өтініш кері қайтарылды", "заявление отозвано", "was withdrawn"),
    };
    [
        format!("№ {number} өтініш: {kk}."),
        format!("Заявление № {number}: {ru}."),
        format!("Application No {number} {en}."),
    ]
}

/// Who made a change, for history entries.
pub struct ActorRef<'a> {
    pub sub: &'a str,
    pub role: &'a str,
}

/// Writes what every change of an application writes with it, in the caller's transaction: the
/// history entry, the integrators' event and, when the status changed, the applicant's notification.
// Each argument is one fact of the history entry; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn record_change(
    c: &mut DbConnection,
    row: &ApplicationRow,
    from_status: Option<&str>,
    who: ActorRef<'_>,
    action: &str,
    reason: Option<String>,
    changes: Value,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    repo::append_history(
        c,
        HistoryRow {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: row.id.clone(),
            seq: 0,
            at: now,
            actor_sub: who.sub.to_string(),
            actor_role: who.role.to_string(),
            action: action.to_string(),
            from_status: from_status.map(String::from),
            to_status: Some(row.status.clone()),
            reason,
            changes: changes.to_string(),
        },
    )?;
    events::append(
        c,
        &events::NewEvent {
            occurred_at: now,
            kind: format!("application.{action}"),
            application_id: row.id.clone(),
            provider_id: row.provider_id.clone(),
            applicant_iin: row.applicant_iin.clone(),
            payload: json!({"registration_number": row.registration_number, "status": row.status, "version": row.row_version}).to_string(),
        },
    )?;
    if from_status != Some(row.status.as_str()) {
        if let Some(status) = Status::parse(&row.status) {
            let [kk, ru, en] = status_texts(status, &row.registration_number);
            persistence::notifications::insert(
                c,
                &NotificationRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    recipient_iin: row.applicant_iin.clone(),
                    application_id: row.id.clone(),
                    kind: format!("status.{}", row.status),
                    text_kk: kk,
                    text_ru: ru,
                    text_en: en,
                    created_at: now,
                    read_at: None,
                },
            )?;
        }
    }
    Ok(())
}

fn status_of(row: &ApplicationRow) -> Result<Status, ApiError> {
    Status::parse(&row.status).ok_or_else(|| ApiError::Internal(format!("unknown status {}", row.status)))
}

/// Moves `row` to `next` and writes what goes with every move, in the caller's transaction: the
/// decision time (set on entering a final state, cleared on leaving one), the row version, the
/// optimistic update (a concurrent change makes it a 409), and the history entry, event and
/// notification, with the status's old and new values added to `changes`. Every change of an
/// application's state goes through here.
// Each argument is one fact of the move; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn move_to(
    c: &mut DbConnection,
    row: &mut ApplicationRow,
    next: Status,
    who: ActorRef<'_>,
    action: Action,
    reason: Option<String>,
    mut changes: Value,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let before = std::mem::replace(&mut row.status, next.code().into());
    row.decided_at = next.is_final().then_some(now.naive_utc());
    row.row_version += 1;
    row.updated_at = now.naive_utc();
    repo::update(c, row).map_err(|e| match e {
        StoreError::Conflict(m) => ApiError::Conflict {
            code: "concurrent_change",
            detail: format!("another change won first ({m}); read the application again"),
            state: None,
            allowed_actions: None,
        },
        other => other.into(),
    })?;
    changes["status"] = json!({"old": before, "new": row.status});
    record_change(c, row, Some(&before), who, action.code(), reason, changes, now.naive_utc())?;
    Ok(())
}

/// The latest local day a preliminary refusal may be sent for an application.
pub fn preliminary_refusal_cutoff(cal: &BusinessCalendar, p: &Passport, row: &ApplicationRow) -> chrono::NaiveDate {
    let channel = domain::passport::Channel::parse(&row.channel);
    let n = channel
        .and_then(|c| p.terms_for(Stage::PreliminaryRefusalNotice, c, row.subtype.as_deref()).next())
        .map(|t| t.value)
        .unwrap_or(DEFAULT_NOTICE_WORKING_DAYS);
    domain::deadline::latest_working_day_before(cal, row.due_date, n)
}

fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let raw = v.to_str().unwrap_or_default().trim();
    if raw == "*" {
        return Ok(None);
    }
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| ApiError::field("header.If-Match", "format", "send the ETag of the application, e.g. \"3\""))
}

fn transition_error(e: TransitionError) -> ApiError {
    match e {
        TransitionError::NotForThisActor { action } => {
            ApiError::Forbidden(format!("your role may not `{}` an application", action.code()))
        }
        TransitionError::NotInThisState { state, action, allowed } => ApiError::Conflict {
            code: "action_not_allowed_in_state",
            detail: format!("`{}` is not allowed while the application is `{}`", action.code(), state.code()),
            state: Some(state.code().into()),
            allowed_actions: Some(allowed.iter().map(|a| a.code().to_string()).collect()),
        },
    }
}

/// What an action changes beyond the status, decided inside the transaction.
struct Effect {
    reason: Option<String>,
    changes: Value,
    /// The signed document the action issues, with the decision it carries.
    document: Option<(ResultDocumentKind, Value)>,
}

impl Effect {
    fn note(reason: Option<String>, changes: Value) -> Self {
        Effect { reason, changes, document: None }
    }
}

/// Runs one command: visibility (404), If-Match (412), the state machine (403/409), the action's own
/// rules, then the update with its history, event and notification, in one transaction.
async fn run(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    who: Principal,
    id: String,
    action: Action,
    apply: impl FnOnce(&mut ApplicationRow, &Passport, &BusinessCalendar, DateTime<Utc>, &Principal) -> Result<Effect, ApiError>
        + Send
        + 'static,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(req)?;
    let state2 = state.clone();
    let row = web::block(move || -> Result<ApplicationRow, ApiError> {
        let now = state2.clock.now();
        let calendar = state2.calendar();
        let catalog = state2.catalog();
        let scope = visibility(&who);
        // Any error below rolls the whole transaction back, including after the first write.
        state2.db.write_with(|c| -> Result<ApplicationRow, ApiError> {
            let mut row =
                repo::find_visible(c, &id, &scope)?.ok_or_else(|| ApiError::not_found("no such application"))?;
            if let Some(v) = expected {
                if v != row.row_version {
                    return Err(ApiError::PreconditionFailed(format!(
                        "the application is at version {} (you sent {v}); read it again before acting",
                        row.row_version
                    )));
                }
            }
            let next = transition(status_of(&row)?, action, actor(who.role)).map_err(transition_error)?;
            let passport =
                catalog.service(&row.service_key).and_then(|s| s.version(&row.passport_version)).cloned().ok_or_else(
                    || {
                        ApiError::Internal(format!(
                            "passport {}/{} is not in the catalog",
                            row.service_key, row.passport_version
                        ))
                    },
                )?;
            let effect = apply(&mut row, &passport, &calendar, now, &who)?;
            let mut changes = effect.changes;
            if let Some((kind, body)) = effect.document {
                // The signed document (result, refusal, receipt, notice) commits with the decision.
                let doc =
                    crate::documents::issue(c, &state2.signer, &row, kind, body, (&who.sub, who.role.code()), now)?;
                changes["document"] =
                    json!({"old": null, "new": {"id": doc.id, "kind": kind.code(), "sha256": doc.sha256}});
            }
            move_to(
                c,
                &mut row,
                next,
                ActorRef { sub: &who.sub, role: who.role.code() },
                action,
                effect.reason,
                changes,
                now,
            )?;
            Ok(row)
        })
    })
    .await??;
    let view = ApplicationView::from_row(row);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, view.etag())).json(view))
}

/// Provider employees act only on applications assigned to them; the head on any of the provider's.
fn check_assignee(row: &ApplicationRow, who: &Principal) -> Result<(), ApiError> {
    if who.role == Role::Employee && row.assignee.as_deref().is_some_and(|a| a != who.sub) {
        return Err(ApiError::Forbidden("the application is assigned to another employee".into()));
    }
    Ok(())
}

fn ground_view(p: &Passport, code: &str) -> Option<Value> {
    p.refusal_grounds
        .iter()
        .find(|g| g.code == code)
        .map(|g| json!({"code": g.code, "number": g.number, "text": g.text, "source": g.source.to_string()}))
}

fn check_grounds(p: &Passport, grounds: &[String]) -> Result<Vec<Value>, ApiError> {
    if grounds.is_empty() {
        return Err(ApiError::field("grounds", "required", "cite at least one ground of the passport"));
    }
    let mut errors = Vec::new();
    let mut cited = Vec::new();
    for (i, g) in grounds.iter().enumerate() {
        match ground_view(p, g) {
            Some(v) => cited.push(v),
            None => errors.push(FieldError::new(
                format!("grounds[{i}]"),
                "not_a_ground_of_the_passport",
                format!("`{g}` is not among the refusal grounds of {}/{}", p.key, p.version),
            )),
        }
    }
    if errors.is_empty() {
        Ok(cited)
    } else {
        Err(ApiError::validation(errors))
    }
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "Complete: application, identity document and birth certificate of the child (free_school_meals)"}))]
pub struct AcceptCommand {
    #[validate(length(max = 2000))]
    pub comment: Option<String>,
}

/// Accept (register) a complete application: its term runs from filing.
#[utoipa::path(
    tag = "lifecycle", operation_id = "acceptApplication",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = AcceptCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state; `allowed_actions` lists what is", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    run(&req, &state, who, id.into_inner(), Action::Accept, move |_, _, _, _, _| Ok(Effect::note(comment, json!({}))))
        .await
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
    pub comment: Option<String>,
}

/// Refuse to accept an incomplete or expired set of documents, with the receipt's list of what is
/// missing (the refusal-receipt forms of order No 414).
#[utoipa::path(
    tag = "lifecycle", operation_id = "refuseApplicationAtIntake",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = RefuseIntakeCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Refused at intake; `decision` holds the receipt", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let cmd = body.0;
    run(&req, &state, who, id.into_inner(), Action::RefuseIntake, move |row, p, _, now, who| {
        if cmd.missing_documents.is_empty() && cmd.expired_documents.is_empty() {
            return Err(ApiError::field("missing_documents", "required", "list the missing or expired documents"));
        }
        let mut errors = Vec::new();
        let mut listed = |field: &str, codes: &[String]| -> Vec<Value> {
            codes
                .iter()
                .enumerate()
                .filter_map(|(i, code)| match p.documents.iter().find(|d| &d.code == code) {
                    Some(d) => Some(json!({"code": d.code, "name": d.name, "source": d.source.to_string()})),
                    None => {
                        errors.push(FieldError::new(
                            format!("{field}[{i}]"),
                            "not_a_document_of_the_passport",
                            format!("`{code}` is not a document of this service"),
                        ));
                        None
                    }
                })
                .collect()
        };
        let missing = listed("missing_documents", &cmd.missing_documents);
        let expired = listed("expired_documents", &cmd.expired_documents);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let grounds: Vec<Value> = p
            .refusal_to_accept
            .iter()
            .filter(|g| {
                (!missing.is_empty() && g.shared.as_deref() == Some("incomplete_document_set"))
                    || (!expired.is_empty() && g.shared.as_deref() == Some("expired_documents"))
            })
            .map(|g| json!({"code": g.code, "text": g.text, "source": g.source.to_string()}))
            .collect();
        let receipt = json!({
            "kind": "intake_refusal_receipt",
            "missing_documents": missing,
            "expired_documents": expired,
            "grounds": grounds,
            "comment": cmd.comment,
            "issued_by": {"sub": who.sub, "role": who.role.code()},
            "issued_at": now,
        });
        row.decision = Some(receipt.to_string());
        Ok(Effect {
            reason: cmd.comment.clone(),
            changes: json!({"decision": {"old": null, "new": receipt}}),
            document: Some((ResultDocumentKind::IntakeRefusalReceipt, receipt)),
        })
    })
    .await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assignee": "emp-1"}))]
pub struct AssignCommand {
    /// The employee's `sub`.
    #[validate(length(min = 1, max = 64))]
    pub assignee: String,
}

/// The head assigns the application to an employee (or reassigns it).
#[utoipa::path(
    tag = "lifecycle", operation_id = "assignApplication",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = AssignCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Assigned; in progress", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    run(&req, &state, who, id.into_inner(), Action::Assign, move |row, _, _, _, _| {
        let old = row.assignee.replace(assignee.clone());
        Ok(Effect::note(None, json!({"assignee": {"old": old, "new": assignee}})))
    })
    .await
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"result_code": "meals_certificate", "comment": "The child is in the targeted social assistance category"}))]
pub struct ApproveCommand {
    /// The result kind from the passport's `results` (default: the first).
    pub result_code: Option<String>,
    #[validate(length(max = 2000))]
    pub comment: Option<String>,
}

/// Issue the result.
#[utoipa::path(
    tag = "lifecycle", operation_id = "approveApplication",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = ApproveCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Approved; `decision` holds the result", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let cmd = body.0;
    run(&req, &state, who, id.into_inner(), Action::Approve, move |row, p, _, now, who| {
        check_assignee(row, who)?;
        let result = match &cmd.result_code {
            Some(code) => p
                .results
                .iter()
                .find(|r| &r.code == code)
                .ok_or_else(|| ApiError::field("result_code", "not_a_result_of_the_passport", "not a result this service produces"))?,
            None => p.results.first().ok_or_else(|| ApiError::Internal("passport without results".into()))?,
        };
        let decision = json!({
            "outcome": "approved",
            "result": {"code": result.code, "name": result.name, "source": result.source.to_string()},
            "comment": cmd.comment,
            "decided_by": {"sub": who.sub, "role": who.role.code()},
            "decided_at": now,
            "on_time": now.naive_utc() <= row.due_at,
        });
        let old = row.decision.replace(decision.to_string());
        Ok(Effect {
            reason: cmd.comment.clone(),
            changes: json!({"decision": {"old": old.and_then(|d| serde_json::from_str::<Value>(&d).ok()), "new": decision}}),
            document: Some((ResultDocumentKind::ApprovalResult, decision)),
        })
    })
    .await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grounds": ["unreliable_documents"], "hearing_at": "2026-11-27T06:00:00Z", "hearing_place": "Astana, Mangilik El 8, room 204", "comment": "the income certificate contradicts the registry"}))]
pub struct PreliminaryRefusalCommand {
    /// Codes of the passport's refusal grounds.
    pub grounds: Vec<String>,
    /// When the applicant will be heard (before the term ends).
    pub hearing_at: DateTime<Utc>,
    #[validate(length(min = 3, max = 500))]
    pub hearing_place: String,
    #[validate(length(max = 4000))]
    pub comment: Option<String>,
}

/// Send a preliminary refusal with the hearing's time and place (APC art. 73). Allowed only while at
/// least 3 working days of the term remain (or the passport's own notice term), on the calendar.
#[utoipa::path(
    tag = "lifecycle", operation_id = "preliminarilyRefuseApplication",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = PreliminaryRefusalCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Preliminary refusal sent", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state, or too late: the notice must go out at least 3 working days before the term ends", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let cmd = body.0;
    run(&req, &state, who, id.into_inner(), Action::PreliminaryRefusal, move |row, p, cal, now, who| {
        check_assignee(row, who)?;
        let cutoff = preliminary_refusal_cutoff(cal, p, row);
        let today = cal.to_local(now).date();
        if today > cutoff {
            return Err(ApiError::Conflict {
                code: "preliminary_refusal_too_late",
                detail: format!(
                    "the term ends on {}; a preliminary refusal had to be sent by {cutoff} (3 working days before, APC art. 73)",
                    row.due_date
                ),
                state: Some(row.status.clone()),
                allowed_actions: Some(vec![Action::Approve.code().into()]),
            });
        }
        let cited = check_grounds(p, &cmd.grounds)?;
        let hearing_at = cmd.hearing_at.naive_utc();
        if cmd.hearing_at <= now || hearing_at > row.due_at {
            return Err(ApiError::field("hearing_at", "within_term", format!("the hearing must be after now and before the term ends ({})", row.due_at.and_utc())));
        }
        row.hearing_at = Some(hearing_at);
        row.hearing_place = Some(cmd.hearing_place.clone());
        let decision = json!({
            "outcome": "preliminary_refusal",
            "grounds": cited,
            "hearing": {"at": cmd.hearing_at, "place": cmd.hearing_place},
            "comment": cmd.comment,
            "notice_cutoff": cutoff,
            "decided_by": {"sub": who.sub, "role": who.role.code()},
            "decided_at": now,
        });
        row.decision = Some(decision.to_string());
        Ok(Effect {
            reason: cmd.comment.clone(),
            changes: json!({"decision": {"old": null, "new": decision}, "hearing_at": {"old": null, "new": cmd.hearing_at}}),
            document: Some((ResultDocumentKind::PreliminaryRefusalNotice, decision)),
        })
    })
    .await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"applicant_position": "The income certificate was issued before the raise; the new one is attached.", "evidence": ["income certificate of 2026-11-20"]}))]
pub struct HearingCommand {
    /// What the applicant said or submitted in writing.
    #[validate(length(min = 1, max = 8000))]
    pub applicant_position: String,
    /// New evidence the applicant brought.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// When the hearing took place (default: now).
    pub held_at: Option<DateTime<Utc>>,
}

/// Record the hearing (APC art. 74): the applicant's position and evidence. The final decision is then
/// due within the passport's term after the hearing (1 or 2 working days).
#[utoipa::path(
    tag = "lifecycle", operation_id = "recordHearing",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = HearingCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Hearing recorded; `stage_due_at` is the deadline of the final decision", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let cmd = body.0;
    run(&req, &state, who, id.into_inner(), Action::RecordHearing, move |row, p, cal, now, who| {
        check_assignee(row, who)?;
        let held_at = cmd.held_at.unwrap_or(now);
        if held_at > now {
            return Err(ApiError::field("held_at", "not_in_future", "a hearing is recorded after it took place"));
        }
        let channel = domain::passport::Channel::parse(&row.channel);
        let after = channel.and_then(|c| p.terms_for(Stage::ResultAfterHearing, c, row.subtype.as_deref()).next().cloned());
        let stage_due = after.as_ref().map(|t| domain::deadline::due(cal, held_at, t.value, t.unit).due_at);
        row.stage_due_at = stage_due.map(|d| d.naive_utc());
        let mut decision: Value = row.decision.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or(json!({}));
        decision["hearing"]["held_at"] = json!(held_at);
        decision["hearing"]["applicant_position"] = json!(cmd.applicant_position);
        decision["hearing"]["evidence"] = json!(cmd.evidence);
        decision["hearing"]["recorded_by"] = json!({"sub": who.sub, "role": who.role.code()});
        row.decision = Some(decision.to_string());
        Ok(Effect {
            reason: None,
            document: None,
            changes: json!({
                "hearing": {"old": null, "new": decision["hearing"]},
                "stage_due_at": {"old": null, "new": stage_due, "term": after.map(|t| json!({"value": t.value, "unit": t.unit.code(), "source": t.source.to_string()}))},
            }),
        })
    })
    .await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grounds": ["unreliable_documents"], "motivation": "The income certificate submitted contradicts the pension contributions registry; the applicant brought no new evidence at the hearing."}))]
pub struct RefuseCommand {
    /// Grounds of the passport, each cited in the preliminary refusal.
    pub grounds: Vec<String>,
    /// Why each ground applies, taking the hearing into account.
    #[validate(length(min = 10, max = 8000))]
    pub motivation: String,
}

/// Issue the motivated refusal after the hearing, on grounds the preliminary refusal cited.
#[utoipa::path(
    tag = "lifecycle", operation_id = "refuseApplication",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = RefuseCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Refused; `decision` holds the motivated refusal", body = ApplicationView),
        (status = 409, description = "Not allowed in the current state (a refusal needs a hearing first)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let cmd = body.0;
    run(&req, &state, who, id.into_inner(), Action::Refuse, move |row, p, _, now, who| {
        check_assignee(row, who)?;
        let cited = check_grounds(p, &cmd.grounds)?;
        let before: Value = row.decision.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or(json!({}));
        let heard: Vec<&str> =
            before["grounds"].as_array().into_iter().flatten().filter_map(|g| g["code"].as_str()).collect();
        let unheard: Vec<FieldError> = cmd
            .grounds
            .iter()
            .enumerate()
            .filter(|(_, g)| !heard.contains(&g.as_str()))
            .map(|(i, g)| {
                FieldError::new(
                    format!("grounds[{i}]"),
                    "not_heard",
                    format!("`{g}` was not cited in the preliminary refusal, so the applicant was not heard on it"),
                )
            })
            .collect();
        if !unheard.is_empty() {
            return Err(ApiError::validation(unheard));
        }
        let decision = json!({
            "outcome": "refused",
            "grounds": cited,
            "motivation": cmd.motivation,
            "hearing": before["hearing"],
            "decided_by": {"sub": who.sub, "role": who.role.code()},
            "decided_at": now,
            "on_time": now.naive_utc() <= row.due_at && row.stage_due_at.is_none_or(|d| now.naive_utc() <= d),
        });
        row.decision = Some(decision.to_string());
        Ok(Effect {
            reason: Some(cmd.motivation.clone()),
            changes: json!({"decision": {"old": before, "new": decision}}),
            document: Some((ResultDocumentKind::MotivatedRefusal, decision)),
        })
    })
    .await
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The school already provides meals to the child"}))]
pub struct WithdrawCommand {
    #[validate(length(max = 2000))]
    pub reason: Option<String>,
}

/// The applicant withdraws the application before a decision.
#[utoipa::path(
    tag = "lifecycle", operation_id = "withdrawApplication",
    params(("id" = String, Path, description = "Application id"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    request_body(content = WithdrawCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Withdrawn", body = ApplicationView),
        (status = 409, description = "Already decided", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The application changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    run(&req, &state, who, id.into_inner(), Action::Withdraw, move |_, _, _, _, _| Ok(Effect::note(reason, json!({}))))
        .await
}

/// What the caller may do now, and the application's clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionsView {
    #[schema(schema_with = crate::schema::status_schema)]
    pub status: String,
    /// The commands the caller may send in this state (front ends show exactly these).
    pub allowed_actions: Vec<String>,
    pub due_at: DateTime<Utc>,
    pub due_date: chrono::NaiveDate,
    /// The last local day a preliminary refusal may be sent.
    pub preliminary_refusal_cutoff: chrono::NaiveDate,
    /// The deadline of the current internal stage, if any (e.g. the decision after the hearing).
    pub stage_due_at: Option<DateTime<Utc>>,
    /// Working days since filing, up to today (0 on the filing day).
    pub working_days_elapsed: i64,
    /// Working days left up to the due date (negative once overdue).
    pub working_days_remaining: i64,
    pub overdue: bool,
    /// Every time limit of the passport for this channel and subtype, anchored on the application's
    /// own events where the system records them.
    pub stage_deadlines: Vec<StageDeadline>,
}

/// One of the passport's time limits, applied to this application.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageDeadline {
    /// The term's code in the passport.
    pub code: String,
    /// What it bounds (`service`, `send_to_state_bodies`, `result_after_hearing`, ...).
    pub stage: String,
    pub value: u32,
    pub unit: String,
    /// The event it is counted from.
    pub starts: String,
    /// When the counting started, if that event has happened and is recorded.
    pub started_at: Option<DateTime<Utc>>,
    /// When the stage was recorded as completed (or the decision, for stages the decision completes).
    pub completed_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// `pending`, `overdue`, `met`, `missed`, `awaiting_start` (its start event has not happened or
    /// is not one the system records), `counted_back` (a latest date before the term's end), or
    /// `at_the_counter` (queue and counter limits, checked at the counter).
    pub state: String,
    pub source: String,
}

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
    let scope = visibility(&who);
    let id = id.into_inner();
    let state2 = state.clone();
    let row = web::block(move || state2.db.read(|c| repo::find_visible(c, &id, &scope)))
        .await??
        .ok_or_else(|| ApiError::not_found("no such application"))?;
    let cal = state.calendar();
    let catalog = state.catalog();
    let status =
        Status::parse(&row.status).ok_or_else(|| ApiError::Internal(format!("unknown status {}", row.status)))?;
    let p = catalog
        .service(&row.service_key)
        .and_then(|s| s.version(&row.passport_version))
        .ok_or_else(|| ApiError::Internal("passport missing".into()))?;
    let today = cal.to_local(state.clock.now()).date();
    let filed = cal.to_local(row.counted_from.and_utc()).date();
    let history = {
        let state2 = state.clone();
        let id = row.id.clone();
        web::block(move || state2.db.read(|c| repo::history(c, &id))).await??
    };
    let stage_deadlines = stage_deadlines(&cal, p, &row, &history, state.clock.now());
    Ok(HttpResponse::Ok().json(ActionsView {
        stage_deadlines,
        status: row.status.clone(),
        allowed_actions: allowed_actions(status, actor(who.role)).iter().map(|a| a.code().to_string()).collect(),
        due_at: row.due_at.and_utc(),
        due_date: row.due_date,
        preliminary_refusal_cutoff: preliminary_refusal_cutoff(&cal, p, &row),
        stage_due_at: row.stage_due_at.map(|d| d.and_utc()),
        working_days_elapsed: domain::deadline::working_days_between(&cal, filed, today).max(0),
        working_days_remaining: domain::deadline::working_days_between(&cal, today, row.due_date),
        overdue: !status.is_final() && state.clock.now().naive_utc() > row.due_at,
    }))
}

/// Reopens a decided application for a new decision because a complaint about it was upheld, inside
/// the caller's transaction (the complaint's own change commits with it). `who` is the head of the
/// provider or the review body's reviewer.
pub fn reopen_after_complaint(
    c: &mut DbConnection,
    application_id: &str,
    who: &Principal,
    complaint_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<ApplicationRow, ApiError> {
    let mut row =
        repo::find(c, application_id)?.ok_or_else(|| ApiError::not_found("the complaint's application is gone"))?;
    let next = transition(status_of(&row)?, Action::Reopen, actor(who.role)).map_err(transition_error)?;
    let old_decision: Option<Value> = row.decision.take().and_then(|d| serde_json::from_str(&d).ok());
    row.stage_due_at = None;
    move_to(
        c,
        &mut row,
        next,
        ActorRef { sub: &who.sub, role: who.role.code() },
        Action::Reopen,
        Some(reason.to_string()),
        json!({"decision": {"old": old_decision, "new": null}, "complaint": {"old": null, "new": complaint_id}}),
        now,
    )?;
    Ok(row)
}

/// Decides a just-filed application of a fully automated service (the 2022 guardianship
/// certificate): the system accepts it, takes it into work and approves or refuses it from registry
/// data, each step with its history entry and notification, the result signed, in one transaction.
/// Runs right after filing, well within the passport's term (30 minutes); an application the rules
/// cannot decide stays `submitted` for a person.
pub fn decide_automatically(state: &AppState, application_id: &str) -> Result<ApplicationRow, ApiError> {
    let now = state.clock.now();
    let today = state.calendar().to_local(now).date();
    let catalog = state.catalog();
    state.db.write_with(|c| -> Result<ApplicationRow, ApiError> {
        let mut row = repo::find(c, application_id)?.ok_or_else(|| ApiError::not_found("no such application"))?;
        let passport = catalog
            .service(&row.service_key)
            .and_then(|s| s.version(&row.passport_version))
            .cloned()
            .ok_or_else(|| ApiError::Internal("passport missing".into()))?;
        if !passport.is_fully_automated() || row.status != Status::Submitted.code() {
            return Ok(row);
        }
        let mut records = Vec::new();
        for registry in domain::automated::registries_for(&row.service_key) {
            records.extend(persistence::registries::lookup(c, *registry, &row.applicant_iin)?.iter().filter_map(|r| r.to_record()));
        }
        let Some(outcome) = domain::automated::decide(&row.service_key, &records, today) else {
            return Ok(row);
        };
        let step = |c: &mut DbConnection, row: &mut ApplicationRow, action: Action, changes: Value| -> Result<(), ApiError> {
            let next = transition(status_of(row)?, action, Actor::System).map_err(transition_error)?;
            move_to(c, row, next, ActorRef { sub: "system", role: "system" }, action, Some("automated decision".into()), changes, now)
        };
        step(c, &mut row, Action::Accept, json!({}))?;
        row.assignee = Some("system".into());
        step(c, &mut row, Action::Assign, json!({"assignee": {"old": null, "new": "system"}}))?;
        let (action, kind, decision) = match outcome {
            domain::automated::AutomatedOutcome::Approve { result_code, facts } => {
                let result = passport.results.iter().find(|r| r.code == result_code).ok_or_else(|| ApiError::Internal("result missing".into()))?;
                let decision = json!({
                    "outcome": "approved",
                    "result": {"code": result.code, "name": result.name, "source": result.source.to_string()},
                    "facts": facts,
                    "registries": records.iter().map(|r| json!({"registry": r.registry, "kind": r.kind})).collect::<Vec<_>>(),
                    "decided_by": {"sub": "system", "role": "system"},
                    "decided_at": now,
                    "on_time": now.naive_utc() <= row.due_at,
                });
                (Action::Approve, ResultDocumentKind::ApprovalResult, decision)
            }
            domain::automated::AutomatedOutcome::Refuse { ground_code, motivation } => {
                let ground = ground_view(&passport, ground_code).ok_or_else(|| ApiError::Internal(format!("ground {ground_code} missing")))?;
                let decision = json!({
                    "outcome": "refused",
                    "grounds": [ground],
                    "motivation": motivation,
                    "decided_by": {"sub": "system", "role": "system"},
                    "decided_at": now,
                    "on_time": now.naive_utc() <= row.due_at,
                });
                (Action::Refuse, ResultDocumentKind::MotivatedRefusal, decision)
            }
        };
        row.decision = Some(decision.to_string());
        let doc = crate::documents::issue(c, &state.signer, &row, kind, decision.clone(), ("system", "system"), now)?;
        step(
            c,
            &mut row,
            action,
            json!({"decision": {"old": null, "new": decision}, "document": {"old": null, "new": {"id": doc.id, "kind": kind.code(), "sha256": doc.sha256}}}),
        )?;
        Ok(row)
    })
}

/// Applies each of the passport's terms to the application: the start is the recorded event the term
/// counts from (filing, the provider's acceptance, the hearing, the decision); a stage that the
/// decision completes is `met` or `missed` once decided.
fn stage_deadlines(
    cal: &BusinessCalendar,
    p: &Passport,
    row: &ApplicationRow,
    history: &[persistence::applications::HistoryRow],
    now: DateTime<Utc>,
) -> Vec<StageDeadline> {
    use domain::passport::TermStart;
    let Some(channel) = domain::passport::Channel::parse(&row.channel) else { return vec![] };
    let at = |action: &str| history.iter().rev().find(|h| h.action == action).map(|h| h.at.and_utc());
    let decided = row.decided_at.map(|d| d.and_utc());
    p.terms
        .iter()
        .filter(|t| t.applies_to(channel, row.subtype.as_deref()))
        .map(|t| {
            let recorded = |event: &str| {
                history
                    .iter()
                    .rev()
                    .find(|h| h.action == event && h.changes.contains(&format!("\"term\":\"{}\"", t.code)))
                    .map(|h| h.at.and_utc())
            };
            let completed_at = recorded("stage_completed");
            let started_at = recorded("stage_started").or(match t.starts {
                TermStart::Filing => Some(row.submitted_at.and_utc()),
                TermStart::ReceiptByProvider => at("accept"),
                TermStart::Hearing => at("record_hearing"),
                TermStart::Decision => decided,
                _ => None,
            });
            let (due_at, state) = match (t.starts, t.stage) {
                (TermStart::ServiceTermEnd | TermStart::ExpiryOfStatus, _) => (None, "counted_back"),
                (TermStart::Arrival, _) | (_, Stage::QueueWait | Stage::CounterService) => (None, "at_the_counter"),
                _ => match started_at {
                    None => (None, "awaiting_start"),
                    Some(start) => {
                        let due = domain::deadline::due(cal, start, t.value, t.unit).due_at;
                        // Stages the decision completes: the whole service, the examination, issuing
                        // the result, the answer after the hearing.
                        let completed_by_decision = matches!(
                            t.stage,
                            Stage::Service | Stage::Examination | Stage::ResultIssue | Stage::ResultAfterHearing
                        );
                        let done = completed_at.or(if completed_by_decision { decided } else { None });
                        let state = match done {
                            Some(d) if d <= due => "met",
                            Some(_) => "missed",
                            None if now > due => "overdue",
                            None => "pending",
                        };
                        (Some(due), state)
                    }
                },
            };
            StageDeadline {
                code: t.code.clone(),
                stage: serde_json::to_value(t.stage)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                value: t.value,
                unit: t.unit.code().into(),
                starts: serde_json::to_value(t.starts)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                started_at,
                completed_at: completed_at.or(match t.stage {
                    Stage::Service | Stage::Examination | Stage::ResultIssue | Stage::ResultAfterHearing => decided,
                    _ => None,
                }),
                due_at,
                state: state.into(),
                source: t.source.to_string(),
            }
        })
        .collect()
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"term": "send_to_state_bodies", "event": "completed", "note": "sent to the MFA and the MIA, letters 12-3/456 and 12-3/457"}))]
pub struct StageEventCommand {
    /// The code of one of the passport's terms for this application (see `stage_deadlines`).
    #[validate(length(min = 1, max = 64))]
    pub term: String,
    /// `started` or `completed`.
    #[validate(custom(function = "started_or_completed"))]
    pub event: String,
    /// When it happened (default: now; never in the future).
    pub at: Option<DateTime<Utc>>,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

fn started_or_completed(v: &str) -> Result<(), validator::ValidationError> {
    match v {
        "started" | "completed" => Ok(()),
        _ => Err(validator::ValidationError::new("enum").with_message("must be `started` or `completed`".into())),
    }
}

/// Record the start or completion of an internal stage (e.g. the documents sent to other state bodies,
/// their answer received), so each of the passport's stage terms is tracked against its own start.
#[utoipa::path(
    tag = "lifecycle", operation_id = "recordStageEvent",
    params(("id" = String, Path, description = "Application id")),
    request_body(content = StageEventCommand, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; see `GET .../actions` for the stage deadlines", body = ApplicationView),
        (status = 409, description = "The application is already decided", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/stage-events")]
pub async fn record_stage_event(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<StageEventCommand>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head])?;
    let cmd = body.0;
    let scope = visibility(&who);
    let id = id.into_inner();
    let state2 = state.clone();
    let row = web::block(move || {
        let now = state2.clock.now();
        let catalog = state2.catalog();
        state2.db.write_with(|c| -> Result<ApplicationRow, ApiError> {
            let mut row =
                repo::find_visible(c, &id, &scope)?.ok_or_else(|| ApiError::not_found("no such application"))?;
            let status = Status::parse(&row.status).ok_or_else(|| ApiError::Internal("unknown status".into()))?;
            if status.is_final() {
                return Err(ApiError::Conflict {
                    code: "application_decided",
                    detail: "the application is decided; its stages are closed".into(),
                    state: Some(row.status.clone()),
                    allowed_actions: Some(vec![]),
                });
            }
            let p = catalog
                .service(&row.service_key)
                .and_then(|s| s.version(&row.passport_version))
                .ok_or_else(|| ApiError::Internal("passport missing".into()))?;
            let channel = domain::passport::Channel::parse(&row.channel);
            let term = p
                .terms
                .iter()
                .find(|t| t.code == cmd.term && channel.is_some_and(|c| t.applies_to(c, row.subtype.as_deref())))
                .ok_or_else(|| {
                    ApiError::field(
                        "term",
                        "not_a_term_of_the_passport",
                        "not one of the passport's terms for this application",
                    )
                })?;
            let at = cmd.at.unwrap_or(now);
            if at > now {
                return Err(ApiError::field("at", "not_in_future", "record a stage event after it happened"));
            }
            row.row_version += 1;
            row.updated_at = now.naive_utc();
            repo::update(c, &row)?;
            let action = if cmd.event == "started" { "stage_started" } else { "stage_completed" };
            record_change(
                c,
                &row,
                Some(&row.status.clone()),
                ActorRef { sub: &who.sub, role: who.role.code() },
                action,
                cmd.note.clone(),
                json!({"term": term.code, "stage": term.stage, "at": at, "source": term.source.to_string()}),
                at.naive_utc(),
            )?;
            Ok(row)
        })
    })
    .await??;
    let view = ApplicationView::from_row(row);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, view.etag())).json(view))
}
