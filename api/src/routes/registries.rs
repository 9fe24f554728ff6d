//! `/api/v1/registries`: the embedded state registries (read by staff, edited by administrators), and
//! `/api/v1/applications/{id}/intake-check`: which documents the registries spare the applicant.

use std::collections::BTreeMap;

use actix_web::{delete, get, http::header, post, put, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::identity::Iin;
use domain::passport::Registry;
use domain::registry::{self as reg, IntakeCheck, Subjects};
use persistence::applications as apps;
use persistence::registries::{self as repo, EmbeddedRegistries, RegistryRecordRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::procedure::{passport_of, visibility};
use crate::schema::channel_schema;
use crate::state::AppState;
use domain::application::Application;

/// Roles that read registries for their work.
const READERS: [Role; 4] = [Role::Admin, Role::Employee, Role::Head, Role::Operator];

/// A registry code, from the domain's list.
pub fn registry_schema() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(Registry::ALL.map(Registry::code).to_vec()))
            .examples([serde_json::json!("civil_registry_marriages")])
            .description(Some("A state registry"))
            .build(),
    )
}

fn parse_registry(s: &str) -> Result<Registry, FieldError> {
    Registry::parse(s).ok_or_else(|| {
        FieldError::new(
            "registry",
            "enum",
            format!("no registry `{s}`; one of: {}", Registry::ALL.map(Registry::code).join(", ")),
        )
    })
}

fn check_iin(field: &str, iin: &str) -> Result<String, FieldError> {
    Iin::parse(iin)
        .map(|i| i.as_str().to_string())
        .map_err(|e| FieldError::new(field, format!("iin_{}", e.code()), e.to_string()))
}

/// A record a state registry holds about a person.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "00000000-0000-7000-8000-000000000002", "registry": "civil_registry_marriages", "subject_iin": "900101300123",
    "kind": "marriage", "data": {"record_number": "АЗ-2014-000731", "registered_on": "2014-08-16", "spouse_iin": "850505400125"},
    "valid_until": null, "updated_at": "2026-01-05T09:00:00Z", "updated_by": "seed"
}))]
pub struct RegistryRecordView {
    pub id: String,
    #[schema(schema_with = registry_schema)]
    pub registry: String,
    /// The person the record is about (the child for a birth record).
    pub subject_iin: String,
    /// `person`, `birth`, `marriage`, `divorce`, `guardianship`, `criminal_record`, `narcology`, ...
    pub kind: String,
    /// The record's content as the registry gives it.
    #[schema(value_type = Object)]
    pub data: Value,
    /// The last day the record is valid; null: no end.
    pub valid_until: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
    /// The administrator who last changed it (`seed` for the shipped demo records).
    pub updated_by: String,
}

impl RegistryRecordView {
    fn from_row(r: RegistryRecordRow) -> Self {
        RegistryRecordView {
            data: serde_json::from_str(&r.data).unwrap_or(Value::Null),
            id: r.id,
            registry: r.registry,
            subject_iin: r.subject_iin,
            kind: r.kind,
            valid_until: r.valid_until,
            updated_at: r.updated_at.and_utc(),
            updated_by: r.updated_by,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RegistryPath {
    /// The registry.
    #[param(schema_with = registry_schema)]
    pub registry: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    /// The registry.
    #[param(schema_with = registry_schema)]
    pub registry: String,
    /// Record id.
    pub id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// The IIN of the person to look up (required).
    #[param(example = "150321650010")]
    pub subject_iin: Option<String>,
}

/// Look up a person in a state registry.
///
/// Every record the registry holds about the person, expired ones included (see `valid_until`). Staff
/// (administrators, provider employees and heads, State Corporation operators) read registries for
/// their work; applicants may not.
#[utoipa::path(
    tag = "registries",
    operation_id = "lookupRegistryRecords",
    params(RegistryPath, LookupQuery),
    responses((status = 200, description = "The person's records; empty when the registry has none", body = Vec<RegistryRecordView>)),
    security(("bearer" = [])),
)]
#[get("/registries/{registry}/records")]
pub async fn lookup_records(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<RegistryPath>,
    q: ValidQuery<LookupQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&READERS)?;
    let mut errors = Vec::new();
    let registry = parse_registry(&path.registry).map_err(|e| errors.push(e)).ok();
    let subject = match q.0.subject_iin.as_deref() {
        None => {
            errors.push(FieldError::new("query.subject_iin", "required", "name the person to look up"));
            None
        }
        Some(s) => check_iin("query.subject_iin", s).map_err(|e| errors.push(e)).ok(),
    };
    let (Some(registry), Some(subject), true) = (registry, subject, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let rows = web::block(move || state.db.read(|c| repo::lookup(c, registry, &subject))).await??;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(RegistryRecordView::from_row).collect::<Vec<_>>()))
}

/// A registry record as an administrator writes it.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject_iin": "900101300126", "kind": "marriage",
    "data": {"record_number": "АЗ-2026-000101", "registered_on": "2026-10-10", "spouse_iin": "150321650010"},
    "valid_until": null
}))]
pub struct RegistryRecordInput {
    /// The person the record is about.
    #[schema(example = "900101300126")]
    pub subject_iin: String,
    /// What the record is: lowercase letters, digits and `_` (`birth`, `marriage`, `guardianship`).
    #[validate(length(min = 1, max = 32))]
    #[schema(example = "marriage")]
    pub kind: String,
    /// The record's content: a JSON object.
    #[schema(value_type = Object)]
    pub data: Value,
    /// The last day the record is valid; null or absent: no end.
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
}

/// Checks a record and the registry it goes to, listing every problem.
fn check_input(registry: &str, body: &RegistryRecordInput) -> Result<(Registry, String), ApiError> {
    let mut errors = Vec::new();
    let registry = parse_registry(registry).map_err(|e| errors.push(e)).ok();
    let subject = check_iin("subject_iin", &body.subject_iin).map_err(|e| errors.push(e)).ok();
    if !body.kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        errors.push(FieldError::new("kind", "format", "lowercase letters, digits and `_` only"));
    }
    if !body.data.is_object() {
        errors.push(FieldError::new("data", "type", "must be a JSON object"));
    }
    match (registry, subject, errors.is_empty()) {
        (Some(r), Some(s), true) => Ok((r, s)),
        _ => Err(ApiError::validation(errors)),
    }
}

fn row_of(
    id: String,
    registry: Registry,
    subject: String,
    body: RegistryRecordInput,
    state: &AppState,
    who: &Principal,
) -> RegistryRecordRow {
    RegistryRecordRow {
        id,
        registry: registry.code().to_string(),
        subject_iin: subject,
        kind: body.kind,
        data: body.data.to_string(),
        valid_until: body.valid_until,
        updated_at: state.clock.now().naive_utc(),
        updated_by: who.sub.clone(),
    }
}

/// Add a record to a registry (administrators).
#[utoipa::path(
    tag = "registries",
    operation_id = "createRegistryRecord",
    params(RegistryPath),
    request_body(content = RegistryRecordInput, content_type = "application/json"),
    responses((status = 201, description = "Added", body = RegistryRecordView, headers(("Location" = String, description = "The record's URL")))),
    security(("bearer" = [])),
)]
#[post("/registries/{registry}/records")]
pub async fn create_record(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<RegistryPath>,
    body: ValidJson<RegistryRecordInput>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let (registry, subject) = check_input(&path.registry, &body.0)?;
    let row = row_of(uuid::Uuid::now_v7().to_string(), registry, subject, body.0, &state, &who);
    let stored = row.clone();
    web::block(move || state.db.write(|c| repo::insert(c, &stored))).await??;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/registries/{}/records/{}", row.registry, row.id)))
        .json(RegistryRecordView::from_row(row)))
}

/// Replace a registry record (administrators).
#[utoipa::path(
    tag = "registries",
    operation_id = "updateRegistryRecord",
    params(RecordPath),
    request_body(content = RegistryRecordInput, content_type = "application/json"),
    responses((status = 200, description = "Replaced", body = RegistryRecordView)),
    security(("bearer" = [])),
)]
#[put("/registries/{registry}/records/{id}")]
pub async fn update_record(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<RecordPath>,
    body: ValidJson<RegistryRecordInput>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let RecordPath { registry, id } = path.into_inner();
    let (registry, subject) = check_input(&registry, &body.0)?;
    let row = row_of(id, registry, subject, body.0, &state, &who);
    let stored = row.clone();
    web::block(move || state.db.write(|c| repo::update(c, &stored))).await?.map_err(|e| match e {
        persistence::StoreError::NotFound => ApiError::not_found("no such record in this registry"),
        other => other.into(),
    })?;
    Ok(HttpResponse::Ok().json(RegistryRecordView::from_row(row)))
}

/// Delete a registry record (administrators).
#[utoipa::path(
    tag = "registries",
    operation_id = "deleteRegistryRecord",
    params(RecordPath),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = [])),
)]
#[delete("/registries/{registry}/records/{id}")]
pub async fn delete_record(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<RecordPath>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let RecordPath { registry, id } = path.into_inner();
    let registry = parse_registry(&registry).map_err(|e| ApiError::validation(vec![e]))?;
    web::block(move || state.db.write(|c| repo::delete(c, registry, &id))).await?.map_err(|e| match e {
        persistence::StoreError::NotFound => ApiError::not_found("no such record in this registry"),
        other => other.into(),
    })?;
    Ok(HttpResponse::NoContent().finish())
}

/// A registry record an obtained document is taken from.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordSummaryView {
    pub subject_iin: String,
    #[schema(example = "marriage")]
    pub kind: String,
    /// The act record or certificate number, when the record has one.
    #[schema(example = "АЗ-2014-000731")]
    pub record_number: Option<String>,
    pub valid_until: Option<NaiveDate>,
}

/// A document the provider obtains from a registry instead of asking the applicant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObtainedView {
    /// The passport's document code.
    #[schema(example = "marriage_certificate_portal")]
    pub code: String,
    #[schema(schema_with = registry_schema)]
    pub registry: String,
    /// The valid records it is taken from; empty for a register of adverse entries with none on file
    /// (criminal records, narcological and psychiatric registers: "no entries" is the certificate).
    pub records: Vec<RecordSummaryView>,
}

/// The people whose records were consulted.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectsView {
    pub applicant: String,
    pub spouse: Option<String>,
    pub children: Vec<String>,
}

/// The intake check of an application: its document set against the passport's checklist, with the
/// documents the state registries provide taken off the applicant's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeCheckView {
    pub application_id: String,
    pub service_key: String,
    pub passport_version: String,
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    pub subtype: Option<String>,
    /// The day the records' validity was judged on (today in Kazakhstan).
    pub checked_on: NaiveDate,
    /// The answers to the passport's questions, taken from the form.
    pub answers: BTreeMap<String, String>,
    pub subjects: SubjectsView,
    /// Documents the applicant must provide (applicable, not obtainable from a registry), in the
    /// passport's order.
    pub required_from_applicant: Vec<String>,
    /// Checklist documents attached to the application.
    pub provided: Vec<String>,
    /// Documents obtained from registries that hold a valid record.
    pub obtained_from_registry: Vec<ObtainedView>,
    /// Required from the applicant and not attached.
    pub missing: Vec<String>,
    /// Documents whose requirement depends on an answer the form does not give.
    pub depends_on_answers: Vec<String>,
    /// Registries that did not answer: their documents are demanded from the applicant.
    pub unavailable_registries: Vec<String>,
    /// Nothing missing and nothing undecided.
    pub complete: bool,
}

/// Check an application's documents against the registries.
///
/// Runs the intake check on the application's passport version, channel, subtype and the answers in
/// its form: a document the passport lets the provider obtain from a state registry is not demanded
/// from the applicant when the registry has a valid record (for a child's birth certificate, of every
/// child named in the form); when it has none, the applicant must provide it. Attached documents
/// count by their requirement code. For provider staff of the application's provider, operators of
/// the centre where it was filed, and administrators; the application is not found for other staff.
#[utoipa::path(
    tag = "registries",
    operation_id = "getIntakeCheck",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The intake check", body = IntakeCheckView),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/applications/{id}/intake-check")]
pub async fn intake_check(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require(&READERS)?;
    let scope = visibility(&who);
    let id = id.into_inner();
    let catalog = state.catalog();
    let today = state.today();
    let state2 = state.clone();
    let (row, check, subjects, answers, unavailable) = web::block(move || {
        state2.db.read(|c| {
            let Some(row) = apps::find_visible(c, &id, &scope)? else {
                return Ok(Err(ApiError::not_found("no such application")));
            };
            let passport = match passport_of(&catalog, &row) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let channel = row.channel;
            let form: &Value = &row.form;
            let subjects = Subjects::of_form(&row.applicant_iin, form);
            let answers = reg::answers_from_form(passport, form);
            let provided = repo::provided_requirement_codes(c, &row.id)?;
            let needed = reg::registries_needed(passport, channel, row.subtype.as_deref());
            let (records, errors) = reg::gather(&EmbeddedRegistries::new(c), &needed, &subjects);
            let provided_refs: Vec<&str> = provided.iter().map(String::as_str).collect();
            let check = reg::intake_check(
                passport,
                channel,
                row.subtype.as_deref(),
                &answers,
                &provided_refs,
                &records,
                &subjects,
                today,
            );
            let unavailable: Vec<String> =
                needed.iter().filter(|r| !records.contains_key(r)).map(|r| r.code().to_string()).collect();
            if !errors.is_empty() {
                tracing::warn!(application = %row.id, errors = ?errors, "registries did not answer the intake check");
            }
            Ok(Ok((row, check, subjects, answers, unavailable)))
        })
    })
    .await???;
    Ok(HttpResponse::Ok().json(view(row, check, subjects, answers, unavailable, today)))
}

fn view(
    row: Application,
    check: IntakeCheck,
    subjects: Subjects,
    answers: domain::passport::Answers,
    unavailable: Vec<String>,
    today: NaiveDate,
) -> IntakeCheckView {
    let complete = check.complete();
    IntakeCheckView {
        application_id: row.id,
        service_key: row.service_key,
        passport_version: row.passport_version,
        channel: row.channel.code().into(),
        subtype: row.subtype,
        checked_on: today,
        answers,
        subjects: SubjectsView { applicant: subjects.applicant, spouse: subjects.spouse, children: subjects.children },
        required_from_applicant: check.required_from_applicant,
        provided: check.provided,
        obtained_from_registry: check
            .obtained_from_registry
            .into_iter()
            .map(|o| ObtainedView {
                code: o.code,
                registry: o.registry.code().to_string(),
                records: o
                    .records
                    .into_iter()
                    .map(|r| RecordSummaryView {
                        subject_iin: r.subject_iin,
                        kind: r.kind,
                        record_number: r.record_number,
                        valid_until: r.valid_until,
                    })
                    .collect(),
            })
            .collect(),
        missing: check.missing,
        depends_on_answers: check.depends_on_answers,
        unavailable_registries: unavailable,
        complete,
    }
}
