//! `/api/v1/applications`: filing an application, reading it, listing, and its history.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::application::{registration_number, Status};
use domain::identity::Iin;
use domain::passport::{Channel, Passport};
use persistence::applications::{self as repo, ApplicationRow, ListFilter, Visibility};
use persistence::idempotency::{self, IdempotencyRecord};
use persistence::{organizations, sequences, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::schema::{channel_schema, optional_status_schema, status_schema};
use crate::state::AppState;

/// A representative filing on the applicant's behalf under a notarised power of attorney.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Representative {
    /// The representative's IIN.
    #[schema(example = "880315300123")]
    pub iin: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(example = "Сейткали Асель Маратовна")]
    pub full_name: String,
    #[validate(nested)]
    pub power_of_attorney: PowerOfAttorney,
}

/// The notarised power of attorney (нотариалды куәландырылған сенімхат).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerOfAttorney {
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "2026-1234")]
    pub number: String,
    pub issued_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    #[validate(length(min = 1, max = 200))]
    #[schema(example = "Нотариус г. Астаны Ахметова Д.С.")]
    pub notary: String,
}

/// A new application.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "service_key": "free_school_meals",
    "channel": "portal",
    "provider_id": "astana-education",
    "form": {
        "applicant": {"iin": "900101300126", "last_name": "Nurlanova", "first_name": "Aliya"},
        "child_category": "targeted_social_assistance",
        "children": [{"iin": "150312500019", "last_name": "Nurlanov", "first_name": "Arman", "school": "School-lyceum No 65, Astana"}],
        "personal_data_consent": true
    }
}))]
pub struct SubmitApplication {
    /// The service key from `GET /api/v1/services`.
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "foster_family_placement")]
    pub service_key: String,
    /// `portal` for applicants, `state_corporation` for operators, `provider_office` for provider staff.
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    /// The provider the application is addressed to (`GET /api/v1/organizations`).
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "astana-education")]
    pub provider_id: String,
    /// The service subtype, for services that have subtypes.
    #[validate(length(min = 1, max = 64))]
    pub subtype: Option<String>,
    /// The applicant's IIN: required when staff file for a person; an applicant files for themselves.
    pub applicant_iin: Option<String>,
    #[validate(nested)]
    pub representative: Option<Representative>,
    /// The application form, as the passport's form schema (`GET /api/v1/services/{key}`) describes.
    #[schema(value_type = Object)]
    pub form: Value,
}

/// An application as the applicant and the provider see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: String,
    /// The number given to the applicant at filing.
    #[schema(example = "2026-000042")]
    pub registration_number: String,
    pub service_key: String,
    /// The passport version the application is bound to (in force at filing).
    pub passport_version: String,
    pub subtype: Option<String>,
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub applicant_iin: String,
    pub provider_id: String,
    /// The State Corporation centre or office where it was filed, for counter channels.
    pub intake_org_id: Option<String>,
    pub assignee: Option<String>,
    pub representative: Option<Representative>,
    #[schema(value_type = Object)]
    pub form: Value,
    pub submitted_at: DateTime<Utc>,
    /// The moment the term is counted from (the next working day for after-hours filings).
    pub counted_from: DateTime<Utc>,
    /// The end of the service term.
    pub due_at: DateTime<Utc>,
    /// The last day of the term, local date.
    pub due_date: NaiveDate,
    pub decided_at: Option<DateTime<Utc>>,
    /// The deadline of the current internal stage (e.g. the final decision after the hearing).
    pub stage_due_at: Option<DateTime<Utc>>,
    /// The hearing's time and place, once a preliminary refusal was sent.
    pub hearing_at: Option<DateTime<Utc>>,
    pub hearing_place: Option<String>,
    /// The decision taken: the intake refusal receipt, the preliminary refusal with its grounds and
    /// hearing, the result, or the motivated refusal (grounds with their text and source).
    #[schema(value_type = Option<Object>)]
    pub decision: Option<Value>,
    /// Changes with every update; equals the ETag.
    pub version: i64,
}

impl ApplicationView {
    pub fn from_row(r: ApplicationRow) -> Self {
        ApplicationView {
            id: r.id,
            registration_number: r.registration_number,
            service_key: r.service_key,
            passport_version: r.passport_version,
            subtype: r.subtype,
            channel: r.channel,
            status: r.status,
            applicant_iin: r.applicant_iin,
            provider_id: r.provider_id,
            intake_org_id: r.intake_org_id,
            assignee: r.assignee,
            representative: r.representative.and_then(|s| serde_json::from_str(&s).ok()),
            form: serde_json::from_str(&r.form_data).unwrap_or(Value::Null),
            submitted_at: r.submitted_at.and_utc(),
            counted_from: r.counted_from.and_utc(),
            due_at: r.due_at.and_utc(),
            due_date: r.due_date,
            decided_at: r.decided_at.map(|d| d.and_utc()),
            stage_due_at: r.stage_due_at.map(|d| d.and_utc()),
            hearing_at: r.hearing_at.map(|d| d.and_utc()),
            hearing_place: r.hearing_place,
            decision: r.decision.and_then(|d| serde_json::from_str(&d).ok()),
            version: r.row_version,
        }
    }

    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Which applications a caller may see; everything else answers 404, never 403, so ids do not leak.
pub fn visibility(p: &Principal) -> Visibility {
    match p.role {
        Role::Applicant => Visibility::Applicant(p.sub.clone()),
        Role::Operator => Visibility::IntakeCentre(p.org().to_string()),
        Role::Employee | Role::Head => Visibility::Provider(p.org().to_string()),
        Role::Admin => Visibility::All,
        // The review body sees the file of an application once a complaint about it is forwarded.
        Role::Reviewer => Visibility::ReviewBody(p.org().to_string()),
    }
}

/// The channel each role files through: a citizen on the portal, an operator at a State Corporation
/// centre, provider staff at their office.
fn channel_of(role: Role) -> Option<Channel> {
    match role {
        Role::Applicant => Some(Channel::Portal),
        Role::Operator => Some(Channel::StateCorporation),
        Role::Employee | Role::Head => Some(Channel::ProviderOffice),
        Role::Reviewer | Role::Admin => None,
    }
}

/// The request's fingerprint for Idempotency-Key: the canonical JSON (sorted keys), so the same body
/// sent twice hashes the same whatever its key order.
fn body_hash(body: &SubmitApplication) -> String {
    crate::documents::sha256_hex(&crate::documents::canonical_bytes(&serde_json::to_value(body).unwrap_or(Value::Null)))
}

pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("Idempotency-Key") else { return Ok(None) };
    let key =
        v.to_str().map_err(|_| ApiError::field("header.Idempotency-Key", "format", "must be visible ASCII"))?.trim();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::field("header.Idempotency-Key", "length", "must be 1 to 255 characters"));
    }
    Ok(Some(key.to_string()))
}

struct Checked {
    passport: Passport,
    channel: Channel,
    applicant_iin: String,
    intake_org_id: Option<String>,
}

/// Checks everything that can be checked before touching the database, and lists every problem.
fn check_submission(
    body: &SubmitApplication,
    who: &Principal,
    passport: Result<&Passport, FieldError>,
) -> Result<Checked, ApiError> {
    let mut errors = Vec::new();
    let channel = match Channel::parse(&body.channel) {
        None => {
            errors.push(FieldError::new("channel", "enum", "not a known channel"));
            None
        }
        Some(c) if channel_of(who.role) != Some(c) => {
            errors.push(FieldError::new(
                "channel",
                "channel_not_allowed_for_role",
                format!(
                    "a `{}` files through `{}`",
                    who.role.code(),
                    channel_of(who.role).map_or("no channel", |c| c.code())
                ),
            ));
            None
        }
        Some(c) => Some(c),
    };
    let passport = match passport {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let (Some(p), Some(c)) = (passport, channel) {
        if !p.channels.contains(&c) {
            errors.push(FieldError::new(
                "channel",
                "channel_not_offered",
                format!(
                    "`{}` is offered through: {}",
                    p.key,
                    p.channels.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    if let Some(p) = passport {
        match (&body.subtype, p.subtypes.is_empty()) {
            (Some(_), true) => {
                errors.push(FieldError::new("subtype", "not_applicable", "this service has no subtypes"))
            }
            (None, false) => errors.push(FieldError::new(
                "subtype",
                "required",
                format!("one of: {}", p.subtypes.iter().map(|s| s.code.as_str()).collect::<Vec<_>>().join(", ")),
            )),
            (Some(s), false) if !p.subtypes.iter().any(|x| &x.code == s) => {
                errors.push(FieldError::new("subtype", "enum", "not a subtype of this service"))
            }
            _ => {}
        }
    }
    let applicant_iin = match (who.role, &body.applicant_iin) {
        (Role::Applicant, Some(iin)) if iin != &who.sub => {
            errors.push(FieldError::new("applicant_iin", "must_be_caller", "an applicant files only for themselves"));
            String::new()
        }
        (Role::Applicant, _) => who.sub.clone(),
        (_, None) => {
            errors.push(FieldError::new(
                "applicant_iin",
                "required",
                "staff filing for a person must give the person's IIN",
            ));
            String::new()
        }
        (_, Some(iin)) => match Iin::parse(iin) {
            Ok(i) => i.as_str().to_string(),
            Err(e) => {
                errors.push(FieldError::new("applicant_iin", format!("iin_{}", e.code()), e.to_string()));
                String::new()
            }
        },
    };
    if let Some(r) = &body.representative {
        if let Err(e) = Iin::parse(&r.iin) {
            errors.push(FieldError::new("representative.iin", format!("iin_{}", e.code()), e.to_string()));
        }
        if let Some(until) = r.power_of_attorney.valid_until {
            if until < r.power_of_attorney.issued_on {
                errors.push(FieldError::new(
                    "representative.power_of_attorney.valid_until",
                    "after_issue",
                    "cannot precede the issue date",
                ));
            }
        }
    }
    if !body.form.is_object() {
        errors.push(FieldError::new("form", "type", "must be a JSON object"));
    } else if let Some(p) = passport {
        errors.extend(check_form(p, body, &applicant_iin)?);
    }
    if matches!(who.role, Role::Employee | Role::Head) && body.provider_id != who.org() {
        errors.push(FieldError::new(
            "provider_id",
            "own_organization",
            "provider staff file applications to their own organisation",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (passport, channel) = (passport.expect("checked"), channel.expect("checked"));
    Ok(Checked {
        passport: passport.clone(),
        channel,
        applicant_iin,
        intake_org_id: match who.role {
            Role::Operator | Role::Employee | Role::Head => Some(who.org().to_string()),
            _ => None,
        },
    })
}

/// A well-formed IIN standing in for the applicant's own IIN during schema validation.
const VOUCHED_IIN_PLACEHOLDER: &str = "150321650010";

/// Checks the form against the passport's JSON Schema, and that it agrees with the rest of the
/// request: the form's applicant is the person filed for, its subtype the subtype filed.
fn check_form(p: &Passport, body: &SubmitApplication, applicant_iin: &str) -> Result<Vec<FieldError>, ApiError> {
    // The applicant's own IIN is vouched for by the identity provider (the token's `sub`) or was
    // checked above for staff filings; it is not re-checked as typed input, so it is validated as a
    // known-good placeholder here, and compared with the filer below.
    let mut form = body.form.clone();
    if let Some(v) = form.pointer_mut("/applicant/iin") {
        if v.as_str() == Some(applicant_iin) {
            *v = Value::String(VOUCHED_IIN_PLACEHOLDER.into());
        }
    }
    let mut errors: Vec<FieldError> = domain::form::validate(&format!("{}/{}", p.key, p.version), &p.form, &form)
        .map_err(ApiError::Internal)?
        .into_iter()
        .map(|e| {
            let field = if e.path.is_empty() { "form".to_string() } else { format!("form.{}", e.path) };
            FieldError::new(field, e.rule, e.message)
        })
        .collect();
    if let Some(iin) = body.form.pointer("/applicant/iin").and_then(|v| v.as_str()) {
        if !applicant_iin.is_empty() && iin != applicant_iin {
            errors.push(FieldError::new(
                "form.applicant.iin",
                "must_match_applicant",
                "the form's applicant must be the person the application is filed for",
            ));
        }
    }
    if let Some(sub) = body.form.get("subtype").and_then(|v| v.as_str()) {
        if body.subtype.as_deref().is_some_and(|s| s != sub) {
            errors.push(FieldError::new(
                "form.subtype",
                "must_match_subtype",
                "the form's subtype differs from `subtype`",
            ));
        }
    }
    Ok(errors)
}

/// The passport a new application binds to: the version in force on the filing date.
fn passport_for<'a>(
    catalog: &'a domain::catalog::Catalog,
    key: &str,
    on: NaiveDate,
) -> Result<&'a Passport, FieldError> {
    let service = catalog.service(key).ok_or_else(|| {
        FieldError::new("service_key", "unknown_service", format!("no service `{key}`; see GET /api/v1/services"))
    })?;
    service.in_force(on).filter(|p| p.accepts_applications()).ok_or_else(|| {
        FieldError::new(
            "service_key",
            "service_not_in_force",
            format!("`{key}` has no passport version in force on {on}; new applications are not accepted"),
        )
    })
}

#[derive(Debug)]
enum Submitted {
    Created(ApplicationRow),
    Replayed(ApplicationRow),
}

/// File an application.
///
/// Applicants file on the portal for themselves; State Corporation operators file at their centre for
/// a person (with a representative's power of attorney when one applies); provider staff file at their
/// office. The application binds to the passport version in force at filing, and its due date comes
/// from that passport's term on the business calendar. Send an `Idempotency-Key` to make retries safe:
/// the same key with the same body returns the first application, never a second one.
#[utoipa::path(
    tag = "applications",
    operation_id = "submitApplication",
    request_body(content = SubmitApplication, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: same key and body, same application")),
    responses(
        (status = 201, description = "Filed (or, with a repeated Idempotency-Key, the application filed first)", body = ApplicationView,
         headers(("Location" = String, description = "The application's URL"), ("ETag" = String, description = "The application's version"))),
    ),
    security(("bearer" = [])),
)]
#[post("/applications")]
pub async fn submit_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<SubmitApplication>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant, Role::Operator, Role::Employee, Role::Head])?;
    let body = body.0;
    let idem = idempotency_key(&req)?;
    let now = state.clock.now();
    let calendar = state.calendar();
    let today = calendar.to_local(now).date();
    let catalog = state.catalog();
    let checked = check_submission(&body, &who, passport_for(&catalog, &body.service_key, today))?;
    let term = checked
        .passport
        .service_term(checked.channel, body.subtype.as_deref())
        .ok_or_else(|| ApiError::Internal(format!("passport {} has no service term", checked.passport.version)))?
        .clone();
    let deadline = domain::deadline::due(&calendar, now, term.value, term.unit);
    let counted_from = calendar.from_local(deadline.counted_from);
    let fully_automated = checked.passport.is_fully_automated();
    let principal_key = format!("{}:{}", who.role.code(), who.sub);
    let hash = body_hash(&body);

    let state2 = state.clone();
    let result = web::block(move || -> Result<Submitted, ApiError> {
        let attempt = || {
            state2.db.write(|c| {
                if let Some(key) = &idem {
                    if let Some(rec) = idempotency::find(c, &principal_key, key)? {
                        if rec.request_hash != hash {
                            return Ok(Err(ApiError::Validation {
                                code: "idempotency_key_reused",
                                detail: "this Idempotency-Key was used with a different body".into(),
                                errors: vec![FieldError::new("header.Idempotency-Key", "reused_with_different_body", "use a new key for a different request")],
                            }));
                        }
                        let row = repo::find(c, &rec.resource_id)?.ok_or(StoreError::NotFound)?;
                        return Ok(Ok(Submitted::Replayed(row)));
                    }
                }
                match organizations::find(c, &body.provider_id)? {
                    Some(o) if o.kind == "provider" => {}
                    _ => {
                        return Ok(Err(ApiError::field(
                            "provider_id",
                            "unknown_provider",
                            "no provider with this id; see GET /api/v1/organizations",
                        )))
                    }
                }
                let year = today.year();
                let seq = sequences::next(c, &format!("registration:{year}"))?;
                let now_naive = now.naive_utc();
                let row = ApplicationRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    registration_number: registration_number(year, seq),
                    service_key: checked.passport.key.clone(),
                    passport_version: checked.passport.version.clone(),
                    subtype: body.subtype.clone(),
                    channel: checked.channel.code().into(),
                    status: Status::Submitted.code().into(),
                    applicant_iin: checked.applicant_iin.clone(),
                    filed_by: who.sub.clone(),
                    filed_by_role: who.role.code().into(),
                    intake_org_id: checked.intake_org_id.clone(),
                    provider_id: body.provider_id.clone(),
                    assignee: None,
                    representative: body.representative.as_ref().map(|r| serde_json::to_string(r).unwrap_or_default()),
                    form_data: body.form.to_string(),
                    submitted_at: now_naive,
                    counted_from: counted_from.naive_utc(),
                    due_at: deadline.due_at.naive_utc(),
                    due_date: deadline.due_date,
                    decided_at: None,
                    row_version: 1,
                    created_at: now_naive,
                    updated_at: now_naive,
                    stage_due_at: None,
                    hearing_at: None,
                    hearing_place: None,
                    decision: None,
                };
                repo::insert(c, &row)?;
                crate::routes::lifecycle::record_change(
                    c,
                    &row,
                    None,
                    crate::routes::lifecycle::ActorRef { sub: &who.sub, role: who.role.code() },
                    "submit",
                    None,
                    json!({
                        "status": {"old": null, "new": row.status},
                        "passport_version": {"old": null, "new": row.passport_version},
                        "due_at": {"old": null, "new": deadline.due_at},
                        "due_date": {"old": null, "new": deadline.due_date},
                        "term": {"old": null, "new": {"code": term.code, "value": term.value, "unit": term.unit.code(), "source": term.source.to_string()}},
                    }),
                    now_naive,
                )?;
                if let Some(key) = &idem {
                    idempotency::insert(
                        c,
                        &IdempotencyRecord {
                            principal: principal_key.clone(),
                            idem_key: key.clone(),
                            request_hash: hash.clone(),
                            resource_type: "application".into(),
                            resource_id: row.id.clone(),
                            created_at: now_naive,
                        },
                    )?;
                }
                Ok(Ok(Submitted::Created(row)))
            })
        };
        // A concurrent request with the same Idempotency-Key may commit between our look-up and our
        // insert; our transaction then fails on the key and rolls back whole, and the retry replays.
        match attempt() {
            Err(StoreError::Conflict(_)) if idem.is_some() => attempt()?,
            other => other?,
        }
    })
    .await??;

    let (mut row, replayed) = match result {
        Submitted::Created(r) => (r, false),
        Submitted::Replayed(r) => (r, true),
    };
    if !replayed && fully_automated {
        // Decided by the system at once, in its own transaction: the filing stands even if the
        // automated step fails (the application then waits, `submitted`, for a person).
        let state3 = state.clone();
        let id = row.id.clone();
        match web::block(move || crate::routes::lifecycle::decide_automatically(&state3, &id)).await? {
            Ok(decided) => row = decided,
            Err(e) => tracing::error!(error = %e, application = %row.id, "automated decision failed"),
        }
    }
    let view = ApplicationView::from_row(row);
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/applications/{}", view.id)))
        .insert_header((header::ETAG, view.etag()));
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(view))
}

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
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = visibility(&who);
    let id = id.into_inner();
    let row = web::block(move || state.db.read(|c| repo::find_visible(c, &id, &scope))).await??;
    let view = ApplicationView::from_row(row.ok_or_else(|| ApiError::not_found("no such application"))?);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, view.etag())).json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListApplicationsQuery {
    pub service_key: Option<String>,
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    #[param(schema_with = channel_schema)]
    pub channel: Option<String>,
    /// Only applications addressed to this provider (within what the caller may see).
    pub provider_id: Option<String>,
    /// Only applications assigned to the caller.
    pub assigned_to_me: Option<bool>,
    /// Only open applications whose term has ended.
    pub overdue: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<ApplicationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
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
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListApplicationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let mut errors = Vec::new();
    if q.status.as_deref().is_some_and(|s| Status::parse(s).is_none()) {
        errors.push(FieldError::new("query.status", "enum", "not a known status"));
    }
    if q.channel.as_deref().is_some_and(|c| Channel::parse(c).is_none()) {
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
        status: q.status,
        channel: q.channel,
        provider_id: q.provider_id,
        assignee: q.assigned_to_me.unwrap_or(false).then(|| who.sub.clone()),
        overdue_at: q.overdue.unwrap_or(false).then(|| state.clock.now().naive_utc()),
        before_id: q.cursor,
        limit: q.limit.unwrap_or(50),
    };
    let scope = visibility(&who);
    let (rows, more) = web::block(move || state.db.read(|c| repo::list(c, &scope, &filter))).await??;
    let next_cursor = if more { rows.last().map(|r| r.id.clone()) } else { None };
    Ok(HttpResponse::Ok()
        .json(ApplicationPage { items: rows.into_iter().map(ApplicationView::from_row).collect(), next_cursor }))
}

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Actor {
    pub sub: String,
    /// The caller's role (`applicant`, `operator`, `employee`, `head`, `reviewer`, `admin`), or
    /// `system` for the information system's own steps (automated decisions).
    #[schema(example = "employee")]
    pub role: String,
}

/// One change to an application: who, when, what moved from which value to which, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Position in the application's history, from 1.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    #[schema(example = "submit")]
    pub action: String,
    #[schema(schema_with = optional_status_schema)]
    pub from_status: Option<String>,
    #[schema(schema_with = optional_status_schema)]
    pub to_status: Option<String>,
    pub reason: Option<String>,
    /// Field → `{old, new}`.
    #[schema(value_type = Object)]
    pub changes: Value,
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
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = visibility(&who);
    let id = id.into_inner();
    let rows = web::block(move || {
        state.db.read(|c| match repo::find_visible(c, &id, &scope)? {
            Some(_) => repo::history(c, &id).map(Some),
            None => Ok(None),
        })
    })
    .await??
    .ok_or_else(|| ApiError::not_found("no such application"))?;
    let entries: Vec<HistoryEntry> = rows
        .into_iter()
        .map(|h| HistoryEntry {
            seq: h.seq,
            at: h.at.and_utc(),
            actor: Actor { sub: h.actor_sub, role: h.actor_role },
            action: h.action,
            from_status: h.from_status,
            to_status: h.to_status,
            reason: h.reason,
            changes: serde_json::from_str(&h.changes).unwrap_or(Value::Null),
        })
        .collect();
    Ok(HttpResponse::Ok().json(entries))
}
