//! Complaints (шағым / жалоба) about a provider's decision, action or inaction, as order No 414 words
//! paragraph 38 of the rules of every service (004:169-192):
//!
//! - the applicant files it to the provider's head (`POST /applications/{id}/complaints`);
//! - the provider either fully satisfies it within 3 working days of receipt, and then does not
//!   forward it (004:182-185), or forwards it to the review body (the authorised body for the quality
//!   of state services, `quality-agency`) no later than 3 working days from receipt (004:179-181);
//! - a complaint to the provider is reviewed within 5 working days of its registration (004:186-188);
//!   one to the review body within 15 working days of its registration there (004:189-190);
//! - the review body upholds it (the application is reopened for a new decision) or rejects it.
//!
//! Every step is one transaction with the complaint's change, a history entry and an event on the
//! application, and the applicant's notification (kk/ru/en); a satisfied or upheld complaint about a
//! decided application reopens it inside the same transaction. Each step records whether it met its
//! term. Terms come from the application's passport when it states them, else from paragraph 38 above.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::application::Status;
use domain::calendar::BusinessCalendar;
use domain::passport::{Channel, Stage, TermUnit};
use persistence::applications::{self as app_repo, ApplicationRow, Visibility};
use persistence::complaints::{self as repo, ComplaintFilter, ComplaintRow, ComplaintScope};
use persistence::idempotency::{self, IdempotencyRecord};
use persistence::notifications::NotificationRow;
use persistence::{DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::routes::lifecycle::{record_change, reopen_after_complaint, ActorRef};
use crate::state::AppState;

/// The review body complaints are forwarded to: the authorised body for assessing and controlling the
/// quality of state services (organisation kind `review_body`).
pub const REVIEW_BODY: &str = "quality-agency";

/// Where paragraph 38 says each thing (order No 414, seed 004).
pub const SOURCE_FILING: &str =
    "004:170-174 | Order 414, rules para 38: a complaint goes to the provider's head or the review body";
pub const SOURCE_FORWARDING: &str = "004:179-181 | Order 414, rules para 38: forwarding within 3 working days";
pub const SOURCE_SATISFACTION: &str =
    "004:182-185 | Order 414, rules para 38: not forwarded when fully satisfied within 3 working days";
pub const SOURCE_PROVIDER_REVIEW: &str =
    "004:186-188 | Order 414, rules para 38: review by the provider within 5 working days of registration";
pub const SOURCE_REVIEW_BODY: &str =
    "004:189-190 | Order 414, rules para 38: review by the review body within 15 working days of registration";

const SUBJECTS: [&str; 3] = ["decision", "action", "inaction"];
pub const STATUSES: [&str; 5] = ["registered", "satisfied", "forwarded", "upheld", "rejected"];

/// A term as applied to a complaint at registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AppliedTerm {
    code: String,
    value: u32,
    unit: TermUnit,
    source: String,
}

/// The three terms of paragraph 38, from the passport when it states them.
fn complaint_terms(passport: Option<&domain::passport::Passport>, app: &ApplicationRow) -> [AppliedTerm; 3] {
    let channel = Channel::parse(&app.channel);
    let from_passport = |stage: Stage| {
        passport.zip(channel).and_then(|(p, c)| {
            p.terms_for(stage, c, app.subtype.as_deref()).next().map(|t| (t.value, t.unit, t.source.to_string()))
        })
    };
    let term = |code: &str, stage: Stage, value: u32, source: &str| {
        let (value, unit, source) = from_passport(stage).unwrap_or((value, TermUnit::WorkingDays, source.to_string()));
        AppliedTerm { code: code.into(), value, unit, source }
    };
    [
        term("complaint_forwarding", Stage::ComplaintForwarding, 3, SOURCE_FORWARDING),
        term("complaint_review_provider", Stage::ComplaintReviewProvider, 5, SOURCE_PROVIDER_REVIEW),
        term("complaint_review_body", Stage::ComplaintReviewBody, 15, SOURCE_REVIEW_BODY),
    ]
}

fn stored_terms(row: &ComplaintRow) -> Vec<AppliedTerm> {
    serde_json::from_str(&row.terms).unwrap_or_default()
}

fn stored_term(row: &ComplaintRow, code: &str, value: u32, source: &str) -> AppliedTerm {
    stored_terms(row).into_iter().find(|t| t.code == code).unwrap_or(AppliedTerm {
        code: code.into(),
        value,
        unit: TermUnit::WorkingDays,
        source: source.into(),
    })
}

/// Which complaints a caller sees; everything else answers 404.
pub fn complaint_scope(p: &Principal) -> ComplaintScope {
    match p.role {
        Role::Applicant => ComplaintScope::Applicant(p.sub.clone()),
        Role::Employee | Role::Head => ComplaintScope::Provider(p.org().to_string()),
        Role::Reviewer => ComplaintScope::Reviewer(p.org().to_string()),
        Role::Admin => ComplaintScope::All,
        Role::Operator => ComplaintScope::Nothing,
    }
}

/// The commands the caller may send for a complaint in its state.
fn allowed_for(row: &ComplaintRow, who: &Principal) -> Vec<String> {
    match (row.status.as_str(), who.role) {
        ("registered", Role::Head) if who.org() == row.provider_id => vec!["satisfy".into(), "forward".into()],
        ("forwarded", Role::Reviewer) if row.reviewer_org.as_deref() == Some(who.org()) => vec!["decide".into()],
        _ => vec![],
    }
}

/// One term of a complaint, its deadline, and whether it was met.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintTermView {
    /// `satisfaction` and `forwarding` (3 working days from receipt), `provider_review` (5 working
    /// days from registration), `review_body_review` (15 working days from registration there).
    #[schema(example = "forwarding")]
    pub code: String,
    pub value: u32,
    #[schema(example = "working_days")]
    pub unit: String,
    /// Null until the complaint is forwarded, for the review body's term.
    pub due_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    /// `pending`, `overdue` (pending past its term), `met`, `missed`, `not_applicable` (another path was taken).
    #[schema(example = "met")]
    pub state: String,
    /// Whether the step was taken within its term; null while pending or not applicable.
    pub met: Option<bool>,
    /// Where the law states the term.
    #[schema(example = "004:179-181 | Order 414, rules para 38: forwarding within 3 working days")]
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintActor {
    pub sub: String,
    pub role: String,
}

/// A complaint as the applicant, the provider and the review body see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintView {
    pub id: String,
    pub application_id: String,
    #[schema(example = "2026-000042")]
    pub registration_number: String,
    pub service_key: String,
    pub provider_id: String,
    pub applicant_iin: String,
    /// `decision`, `action` or `inaction`.
    #[schema(example = "decision")]
    pub subject: String,
    pub text: String,
    /// `registered`, `satisfied`, `forwarded`, `upheld`, `rejected`.
    #[schema(example = "registered")]
    pub status: String,
    /// The application's status when the complaint was filed.
    pub application_status: String,
    pub registered_at: DateTime<Utc>,
    /// The provider satisfies it or forwards it by then (3 working days from receipt).
    pub forward_due_at: DateTime<Utc>,
    pub forward_due_date: NaiveDate,
    /// The provider's review ends then (5 working days from registration).
    pub provider_due_at: DateTime<Utc>,
    pub provider_due_date: NaiveDate,
    /// The review body it was forwarded to.
    pub reviewer_org: Option<String>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub forwarded_on_time: Option<bool>,
    /// The review body decides by then (15 working days from its registration there).
    pub review_due_at: Option<DateTime<Utc>>,
    pub review_due_date: Option<NaiveDate>,
    /// `satisfied` (by the provider), `upheld` or `rejected` (by the review body).
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<ComplaintActor>,
    /// Whether the resolution met its term (3 working days to satisfy; 15 for the review body).
    pub resolved_on_time: Option<bool>,
    /// Whether the application was reopened for a new decision.
    pub reopened: bool,
    /// Each term with its deadline, whether it was met, and its source in the law.
    pub terms: Vec<ComplaintTermView>,
    /// What the caller may do now (`satisfy`, `forward`, `decide`).
    pub allowed_actions: Vec<String>,
    /// Where the law says who receives a complaint.
    #[schema(
        example = "004:170-174 | Order 414, rules para 38: a complaint goes to the provider's head or the review body"
    )]
    pub filing_source: String,
    pub version: i64,
}

fn utc(d: NaiveDateTime) -> DateTime<Utc> {
    d.and_utc()
}

fn term_state(
    done: Option<NaiveDateTime>,
    due: Option<NaiveDateTime>,
    applicable: bool,
    now: NaiveDateTime,
) -> (String, Option<bool>) {
    match (applicable, done, due) {
        (false, _, _) => ("not_applicable".into(), None),
        (true, Some(at), Some(due)) => {
            let met = at <= due;
            (if met { "met" } else { "missed" }.into(), Some(met))
        }
        (true, None, Some(due)) if now > due => ("overdue".into(), None),
        _ => ("pending".into(), None),
    }
}

impl ComplaintView {
    pub fn from_row(r: ComplaintRow, who: &Principal, now: DateTime<Utc>) -> Self {
        let now = now.naive_utc();
        let fwd = stored_term(&r, "complaint_forwarding", 3, SOURCE_FORWARDING);
        let prov = stored_term(&r, "complaint_review_provider", 5, SOURCE_PROVIDER_REVIEW);
        let body = stored_term(&r, "complaint_review_body", 15, SOURCE_REVIEW_BODY);
        let satisfied = r.status == "satisfied";
        let forwarded = r.forwarded_at.is_some();
        let decided_by_body = matches!(r.status.as_str(), "upheld" | "rejected");
        let provider_acted = if satisfied { r.resolved_at } else { r.forwarded_at };
        let mk = |code: &str,
                  t: &AppliedTerm,
                  source: String,
                  due: Option<NaiveDateTime>,
                  due_date: Option<NaiveDate>,
                  st: (String, Option<bool>)| ComplaintTermView {
            code: code.into(),
            value: t.value,
            unit: t.unit.code().into(),
            due_at: due.map(utc),
            due_date,
            state: st.0,
            met: st.1,
            source,
        };
        let satisfaction_source =
            if fwd.source == SOURCE_FORWARDING { SOURCE_SATISFACTION.to_string() } else { fwd.source.clone() };
        let terms = vec![
            mk(
                "satisfaction",
                &fwd,
                satisfaction_source,
                Some(r.forward_due_at),
                Some(r.forward_due_date),
                term_state(satisfied.then_some(r.resolved_at).flatten(), Some(r.forward_due_at), !forwarded, now),
            ),
            mk(
                "forwarding",
                &fwd,
                fwd.source.clone(),
                Some(r.forward_due_at),
                Some(r.forward_due_date),
                term_state(r.forwarded_at, Some(r.forward_due_at), !satisfied, now),
            ),
            mk(
                "provider_review",
                &prov,
                prov.source.clone(),
                Some(r.provider_due_at),
                Some(r.provider_due_date),
                term_state(provider_acted, Some(r.provider_due_at), true, now),
            ),
            mk(
                "review_body_review",
                &body,
                body.source.clone(),
                r.review_due_at,
                r.review_due_date,
                term_state(decided_by_body.then_some(r.resolved_at).flatten(), r.review_due_at, forwarded, now),
            ),
        ];
        ComplaintView {
            allowed_actions: allowed_for(&r, who),
            terms,
            id: r.id,
            application_id: r.application_id,
            registration_number: r.registration_number,
            service_key: r.service_key,
            provider_id: r.provider_id,
            applicant_iin: r.applicant_iin,
            subject: r.subject,
            text: r.text,
            status: r.status,
            application_status: r.application_status,
            registered_at: utc(r.registered_at),
            forward_due_at: utc(r.forward_due_at),
            forward_due_date: r.forward_due_date,
            provider_due_at: utc(r.provider_due_at),
            provider_due_date: r.provider_due_date,
            reviewer_org: r.reviewer_org,
            forwarded_at: r.forwarded_at.map(utc),
            forwarded_on_time: r.forwarded_on_time,
            review_due_at: r.review_due_at.map(utc),
            review_due_date: r.review_due_date,
            outcome: r.outcome,
            reason: r.reason,
            resolved_at: r.resolved_at.map(utc),
            resolved_by: r.resolved_by.map(|sub| ComplaintActor { sub, role: r.resolved_by_role.unwrap_or_default() }),
            resolved_on_time: r.resolved_on_time,
            reopened: r.reopened,
            filing_source: SOURCE_FILING.into(),
            version: r.row_version,
        }
    }
}

/// The applicant's notification about their complaint, in kk, ru and en.
fn complaint_texts(status: &str, number: &str, due: Option<NaiveDate>) -> [String; 3] {
    let d = due.map(|d| d.format("%d.%m.%Y").to_string()).unwrap_or_default();
    match status {
        "registered" => [
            format!("№ {number} өтініш бойынша шағымыңыз тіркелді; ол {d} дейін қаралады."),
            format!("Ваша жалоба по заявлению № {number} зарегистрирована и будет рассмотрена до {d}."),
            format!("Your complaint about application No {number} was registered; it will be reviewed by {d}."),
        ],
        "satisfied" => [
            format!("№ {number} өтініш бойынша шағымыңызды көрсетілетін қызметті беруші толық қанағаттандырды."),
            format!("Услугодатель полностью удовлетворил вашу жалобу по заявлению № {number}."),
            format!("The provider fully satisfied your complaint about application No {number}."),
        ],
        "forwarded" => [
            format!("№ {number} өтініш бойынша шағымыңыз шағымды қарайтын органға жіберілді; ол {d} дейін қаралады."),
            format!("Ваша жалоба по заявлению № {number} направлена в орган, рассматривающий жалобу; срок рассмотрения до {d}."),
            format!("Your complaint about application No {number} was forwarded to the review body; it will be reviewed by {d}."),
        ],
        "upheld" => [
            format!("№ {number} өтініш бойынша шағымыңыз қанағаттандырылды; өтініш қайта қаралады."),
            format!("Ваша жалоба по заявлению № {number} удовлетворена; заявление будет рассмотрено повторно."),
            format!("Your complaint about application No {number} was upheld; the application will be decided again."),
        ],
        _ => [
            format!("№ {number} өтініш бойынша шағымыңыз қанағаттандырусыз қалдырылды."),
            format!("Ваша жалоба по заявлению № {number} оставлена без удовлетворения."),
            format!("Your complaint about application No {number} was rejected."),
        ],
    }
}

fn notify(
    c: &mut DbConnection,
    row: &ComplaintRow,
    due: Option<NaiveDate>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let [kk, ru, en] = complaint_texts(&row.status, &row.registration_number, due);
    persistence::notifications::insert(
        c,
        &NotificationRow {
            id: uuid::Uuid::now_v7().to_string(),
            recipient_iin: row.applicant_iin.clone(),
            application_id: row.application_id.clone(),
            kind: format!("complaint.{}", row.status),
            text_kk: kk,
            text_ru: ru,
            text_en: en,
            created_at: now,
            read_at: None,
        },
    )
}

/// A history entry (and event) on the application for a complaint step; the application's status is
/// unchanged by it (a reopening writes its own entry).
fn record_on_application(
    c: &mut DbConnection,
    complaint: &ComplaintRow,
    who: &Principal,
    action: &str,
    reason: Option<String>,
    changes: Value,
    now: NaiveDateTime,
) -> Result<ApplicationRow, StoreError> {
    let app = app_repo::find(c, &complaint.application_id)?.ok_or(StoreError::NotFound)?;
    record_change(
        c,
        &app,
        Some(&app.status),
        ActorRef { sub: &who.sub, role: who.role.code() },
        action,
        reason,
        changes,
        now,
    )?;
    Ok(app)
}

fn store_conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(m) => ApiError::Conflict {
            code: "concurrent_change",
            detail: format!("another change won first ({m}); read the complaint again"),
            state: None,
            allowed_actions: None,
        },
        other => other.into(),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "decision", "text": "The refusal ignores the income certificate I brought to the hearing."}))]
pub struct FileComplaint {
    /// What is complained about: the provider's `decision`, `action` or `inaction`.
    #[schema(example = "decision")]
    pub subject: String,
    #[validate(length(min = 1, max = 8000))]
    pub text: String,
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("Idempotency-Key") else { return Ok(None) };
    let key =
        v.to_str().map_err(|_| ApiError::field("header.Idempotency-Key", "format", "must be visible ASCII"))?.trim();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::field("header.Idempotency-Key", "length", "must be 1 to 255 characters"));
    }
    Ok(Some(key.to_string()))
}

enum Filed {
    Created(ComplaintRow),
    Replayed(ComplaintRow),
}

/// The applicant complains about the provider's decision, action or inaction on their application.
/// The complaint is registered now; the provider satisfies or forwards it within 3 working days and
/// reviews it within 5 (order No 414, rules para 38). `Idempotency-Key` replays the first complaint.
#[utoipa::path(
    tag = "complaints", operation_id = "fileComplaint",
    params(("id" = String, Path, description = "Application id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body return the first complaint")),
    request_body(content = FileComplaint, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered, with its terms", body = ComplaintView,
         headers(("Location" = String, description = "The complaint's URL"))),
        (status = 404, description = "No such application of the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/complaints")]
pub async fn file_complaint(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<FileComplaint>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant])?;
    let body = body.0;
    if !SUBJECTS.contains(&body.subject.as_str()) {
        return Err(ApiError::field("subject", "enum", "one of: decision, action, inaction"));
    }
    let idem = idempotency_key(&req)?;
    let application_id = id.into_inner();
    let hash = crate::documents::sha256_hex(&crate::documents::canonical_bytes(
        &json!({"application_id": application_id, "subject": body.subject, "text": body.text}),
    ));
    let principal_key = format!("{}:{}", who.role.code(), who.sub);
    let state2 = state.clone();
    let who2 = who.clone();
    let now = state.clock.now();
    let result = web::block(move || -> Result<Filed, ApiError> {
        let cal = state2.calendar();
        let catalog = state2.catalog();
        let attempt = || {
            state2.db.write(|c| -> Result<Result<Filed, ApiError>, StoreError> {
                if let Some(key) = &idem {
                    if let Some(rec) = idempotency::find(c, &principal_key, key)? {
                        if rec.request_hash != hash || rec.resource_type != "complaint" {
                            return Ok(Err(ApiError::Validation {
                                code: "idempotency_key_reused",
                                detail: "this Idempotency-Key was used with a different body".into(),
                                errors: vec![FieldError::new(
                                    "header.Idempotency-Key",
                                    "reused_with_different_body",
                                    "use a new key for a different request",
                                )],
                            }));
                        }
                        let row = repo::find_visible(c, &rec.resource_id, &ComplaintScope::All)?
                            .ok_or(StoreError::NotFound)?;
                        return Ok(Ok(Filed::Replayed(row)));
                    }
                }
                let Some(app) = app_repo::find_visible(c, &application_id, &Visibility::Applicant(who2.sub.clone()))?
                else {
                    return Ok(Err(ApiError::not_found("no such application")));
                };
                let passport = catalog.service(&app.service_key).and_then(|s| s.version(&app.passport_version));
                let terms = complaint_terms(passport, &app);
                let forward_due = domain::deadline::due(&cal, now, terms[0].value, terms[0].unit);
                let provider = domain::deadline::due(&cal, now, terms[1].value, terms[1].unit);
                let n = now.naive_utc();
                let row = ComplaintRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    application_id: app.id.clone(),
                    applicant_iin: app.applicant_iin.clone(),
                    provider_id: app.provider_id.clone(),
                    service_key: app.service_key.clone(),
                    registration_number: app.registration_number.clone(),
                    subject: body.subject.clone(),
                    text: body.text.clone(),
                    status: "registered".into(),
                    application_status: app.status.clone(),
                    registered_at: n,
                    forward_due_at: forward_due.due_at.naive_utc(),
                    forward_due_date: forward_due.due_date,
                    provider_due_at: provider.due_at.naive_utc(),
                    provider_due_date: provider.due_date,
                    reviewer_org: None,
                    forwarded_at: None,
                    forwarded_by: None,
                    forwarded_on_time: None,
                    review_due_at: None,
                    review_due_date: None,
                    outcome: None,
                    reason: None,
                    resolved_at: None,
                    resolved_by: None,
                    resolved_by_role: None,
                    resolved_on_time: None,
                    reopened: false,
                    terms: serde_json::to_string(&terms).unwrap_or_else(|_| "[]".into()),
                    row_version: 1,
                    created_at: n,
                    updated_at: n,
                };
                repo::insert(c, &row)?;
                record_change(
                    c,
                    &app,
                    Some(&app.status),
                    ActorRef { sub: &who2.sub, role: who2.role.code() },
                    "complaint_filed",
                    Some(body.text.clone()),
                    json!({
                        "complaint": {"old": null, "new": {"id": row.id, "subject": row.subject, "status": row.status}},
                        "forward_due_at": {"old": null, "new": forward_due.due_at, "source": terms[0].source},
                        "provider_due_at": {"old": null, "new": provider.due_at, "source": terms[1].source},
                    }),
                    n,
                )?;
                notify(c, &row, Some(row.provider_due_date), n)?;
                if let Some(key) = &idem {
                    idempotency::insert(
                        c,
                        &IdempotencyRecord {
                            principal: principal_key.clone(),
                            idem_key: key.clone(),
                            request_hash: hash.clone(),
                            resource_type: "complaint".into(),
                            resource_id: row.id.clone(),
                            created_at: n,
                        },
                    )?;
                }
                Ok(Ok(Filed::Created(row)))
            })
        };
        match attempt() {
            Err(StoreError::Conflict(_)) if idem.is_some() => attempt().map_err(store_conflict)?,
            other => other.map_err(store_conflict)?,
        }
    })
    .await??;
    let (row, replayed) = match result {
        Filed::Created(r) => (r, false),
        Filed::Replayed(r) => (r, true),
    };
    let view = ComplaintView::from_row(row, &who, now);
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/complaints/{}", view.id)));
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListComplaintsQuery {
    /// `registered`, `satisfied`, `forwarded`, `upheld`, `rejected`.
    pub status: Option<String>,
    pub service_key: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintPage {
    pub items: Vec<ComplaintView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
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
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListComplaintsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let mut errors = Vec::new();
    if q.status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
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
        status: q.status,
        service_key: q.service_key,
        before_id: q.cursor,
        limit: q.limit.unwrap_or(50),
        ..Default::default()
    };
    let scope = complaint_scope(&who);
    let now = state.clock.now();
    let (rows, more) = web::block(move || state.db.read(|c| repo::list(c, &scope, &filter))).await??;
    let next_cursor = if more { rows.last().map(|r| r.id.clone()) } else { None };
    Ok(HttpResponse::Ok().json(ComplaintPage {
        items: rows.into_iter().map(|r| ComplaintView::from_row(r, &who, now)).collect(),
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
    Ok(HttpResponse::Ok().json(ComplaintView::from_row(row, &who, now)))
}

/// A step on a complaint: 404 unless visible, 403 for the wrong role, 409 in the wrong state, then
/// `apply` changes it (and may reopen the application), in one transaction: any error rolls it all back.
async fn step(
    state: &web::Data<AppState>,
    who: Principal,
    id: String,
    role: Role,
    from: &'static str,
    command: &'static str,
    apply: impl FnOnce(
            &mut DbConnection,
            &mut ComplaintRow,
            &BusinessCalendar,
            DateTime<Utc>,
            &Principal,
        ) -> Result<(), ApiError>
        + Send
        + 'static,
) -> Result<HttpResponse, ApiError> {
    let state2 = state.clone();
    let who2 = who.clone();
    let now = state.clock.now();
    let row = web::block(move || -> Result<ComplaintRow, ApiError> {
        let cal = state2.calendar();
        let scope = complaint_scope(&who2);
        state2.db.write_with(|c| -> Result<ComplaintRow, ApiError> {
            let Some(mut row) = repo::find_visible(c, &id, &scope)? else {
                return Err(ApiError::not_found("no such complaint"));
            };
            if who2.role != role {
                let who_may =
                    if role == Role::Head { "the provider's head" } else { "the review body it was forwarded to" };
                return Err(ApiError::Forbidden(format!("only {who_may} may `{command}` a complaint")));
            }
            if row.status != from {
                return Err(ApiError::Conflict {
                    code: "complaint_action_not_allowed_in_state",
                    detail: format!("`{command}` is not allowed while the complaint is `{}`", row.status),
                    state: Some(row.status.clone()),
                    allowed_actions: Some(allowed_for(&row, &who2)),
                });
            }
            apply(c, &mut row, &cal, now, &who2)?;
            row.row_version += 1;
            row.updated_at = now.naive_utc();
            repo::update(c, &row).map_err(store_conflict)?;
            Ok(row)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(ComplaintView::from_row(row, &who, now)))
}

/// Reopens the application for a new decision when it was decided (approved or refused).
fn reopen_if_decided(
    c: &mut DbConnection,
    row: &mut ComplaintRow,
    who: &Principal,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let app = app_repo::find(c, &row.application_id)?.ok_or(StoreError::NotFound)?;
    if matches!(Status::parse(&app.status), Some(Status::Approved | Status::Refused)) {
        reopen_after_complaint(c, &row.application_id, who, &row.id, reason, now)?;
        row.reopened = true;
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The income certificate was overlooked; the application goes back for a new decision."}))]
pub struct SatisfyCommand {
    #[validate(length(min = 1, max = 8000))]
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
        (status = 409, description = "Not allowed in the complaint's state; `allowed_actions` lists what is", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let reason = body.0.reason;
    step(&state, who, id.into_inner(), Role::Head, "registered", "satisfy", move |c, row, _, now, who| {
        let n = now.naive_utc();
        row.status = "satisfied".into();
        row.outcome = Some("satisfied".into());
        row.reason = Some(reason.clone());
        row.resolved_at = Some(n);
        row.resolved_by = Some(who.sub.clone());
        row.resolved_by_role = Some(who.role.code().into());
        row.resolved_on_time = Some(n <= row.forward_due_at);
        record_on_application(
            c,
            row,
            who,
            "complaint_satisfied",
            Some(reason.clone()),
            json!({"complaint": {"old": {"id": row.id, "status": "registered"}, "new": {"id": row.id, "status": "satisfied", "on_time": row.resolved_on_time}}}),
            n,
        )?;
        notify(c, row, None, n)?;
        reopen_if_decided(c, row, who, &reason, now)?;
        Ok(())
    })
    .await
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "The provider upholds its refusal of free_school_meals; forwarded to the review body"}))]
pub struct ForwardCommand {
    #[validate(length(max = 2000))]
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
        (status = 409, description = "Not allowed in the complaint's state", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let comment = body.0.comment;
    step(&state, who, id.into_inner(), Role::Head, "registered", "forward", move |c, row, cal, now, who| {
        let n = now.naive_utc();
        let term = stored_term(row, "complaint_review_body", 15, SOURCE_REVIEW_BODY);
        let review = domain::deadline::due(cal, now, term.value, term.unit);
        row.status = "forwarded".into();
        row.reviewer_org = Some(REVIEW_BODY.into());
        row.forwarded_at = Some(n);
        row.forwarded_by = Some(who.sub.clone());
        row.forwarded_on_time = Some(n <= row.forward_due_at);
        row.review_due_at = Some(review.due_at.naive_utc());
        row.review_due_date = Some(review.due_date);
        record_on_application(
            c,
            row,
            who,
            "complaint_forwarded",
            comment.clone(),
            json!({
                "complaint": {"old": {"id": row.id, "status": "registered"}, "new": {"id": row.id, "status": "forwarded", "reviewer_org": REVIEW_BODY, "on_time": row.forwarded_on_time}},
                "review_due_at": {"old": null, "new": review.due_at, "source": term.source},
            }),
            n,
        )?;
        notify(c, row, row.review_due_date, n)?;
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "upheld", "reason": "The hearing's evidence was not weighed; the provider must decide again."}))]
pub struct DecideCommand {
    /// `upheld` (the application is reopened for a new decision) or `rejected`.
    #[schema(example = "upheld")]
    pub outcome: String,
    #[validate(length(min = 1, max = 8000))]
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
        (status = 409, description = "Not allowed in the complaint's state", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/complaints/{id}/decide")]
pub async fn decide(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<DecideCommand>,
) -> Result<HttpResponse, ApiError> {
    let cmd = body.0;
    if !matches!(cmd.outcome.as_str(), "upheld" | "rejected") {
        return Err(ApiError::field("outcome", "enum", "one of: upheld, rejected"));
    }
    step(&state, who, id.into_inner(), Role::Reviewer, "forwarded", "decide", move |c, row, _, now, who| {
        let n = now.naive_utc();
        row.status = cmd.outcome.clone();
        row.outcome = Some(cmd.outcome.clone());
        row.reason = Some(cmd.reason.clone());
        row.resolved_at = Some(n);
        row.resolved_by = Some(who.sub.clone());
        row.resolved_by_role = Some(who.role.code().into());
        row.resolved_on_time = Some(row.review_due_at.is_none_or(|d| n <= d));
        record_on_application(
            c,
            row,
            who,
            &format!("complaint_{}", cmd.outcome),
            Some(cmd.reason.clone()),
            json!({"complaint": {"old": {"id": row.id, "status": "forwarded"}, "new": {"id": row.id, "status": cmd.outcome, "on_time": row.resolved_on_time}}}),
            n,
        )?;
        notify(c, row, None, n)?;
        if cmd.outcome == "upheld" {
            reopen_if_decided(c, row, who, &cmd.reason, now)?;
        }
        Ok(())
    })
    .await
}
