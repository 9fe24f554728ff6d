//! `/api/v1/registries/{registry}/records`: the embedded state registries, read by staff for their
//! work and edited by administrators.

use actix_web::{delete, get, http::header, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::identity::Iin;
use domain::passport::Registry;
use persistence::registries::{self as repo, RegistryRecordRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access::{self, AccessKind, Reader};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::procedure::visibility;
use crate::schema::registry_schema;
use crate::state::AppState;

/// Roles that read registries for their work.
const READERS: [Role; 4] = [Role::Admin, Role::Employee, Role::Head, Role::Operator];

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
    /// The IIN of the person to look up.
    #[param(value_type = crate::views::codes::IinCode, inline, required = true, example = "150321650010")]
    pub subject_iin: Option<String>,
    /// The application the read serves: required for staff (422 without it), who read a person's
    /// records only for an application they may see that names that person (else 404); administrators,
    /// who keep the records, may omit it.
    #[param(max_length = 64, example = "0193a1f2-7c00-7000-8000-000000000001")]
    pub application_id: Option<String>,
}

/// Look up a person in a state registry.
///
/// Every record the registry holds about the person, expired ones included (see `valid_until`). Staff
/// (provider employees and heads, State Corporation operators) read a person's records only for an
/// application they may see that names that person (`application_id`; otherwise 404); administrators
/// read any. Applicants may not. Every record returned is written to the access journal.
#[utoipa::path(
    tag = "registries",
    operation_id = "lookupRegistryRecords",
    params(RegistryPath, LookupQuery),
    responses(
        (status = 200, description = "The person's records; empty when the registry has none", body = Vec<RegistryRecordView>),
        (status = 404, description = "Staff: `application_id` is not an application of theirs that names the person", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem: `query.subject_iin` a valid IIN \
(`iin_*`: check digit, date of birth). Beyond the schema, the purpose binding of personal data: staff name the \
application the read serves (`required` on `query.application_id`; administrators may omit it)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/registries/{registry}/records")]
pub async fn lookup_records(
    req: HttpRequest,
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
    let purpose = q.0.application_id.clone();
    if purpose.is_none() && who.role != Role::Admin {
        errors.push(FieldError::new(
            "query.application_id",
            "required",
            "staff read a person's records only for an application that names them",
        ));
    }
    let (Some(registry), Some(subject), true) = (registry, subject, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let (scope, reader) = (visibility(&who), Reader::of(&req, &who));
    let rows = web::block(move || {
        state.db.read(|c| {
            let application = match &purpose {
                Some(id) => match persistence::applications::find_visible(c, id, &scope)? {
                    Some(app) if domain::registry::may_read_records_for(&app, &subject) => Some(app.id),
                    // Not an application the caller may see, or it does not name the person: as if
                    // the records did not exist.
                    _ => return Ok(None),
                },
                None => None,
            };
            let rows = repo::lookup(c, registry, &subject)?;
            let now = state.clock.now();
            let items = rows.iter().map(|r| (r.id.as_str(), application.as_deref(), Some(subject.as_str())));
            access::journal_page(c, &reader, AccessKind::RegistryRecord, items, now)?;
            Ok(Some(rows))
        })
    })
    .await??
    .ok_or_else(|| ApiError::not_found("no such records for an application of yours"))?;
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
    #[schema(example = "900101300126", pattern = "^[0-9]{12}$", format = "iin")]
    pub subject_iin: String,
    /// What the record is: lowercase letters, digits and `_` (`birth`, `marriage`, `guardianship`).
    #[validate(length(min = 1, max = 32))]
    #[schema(example = "marriage", min_length = 1, max_length = 32, pattern = "^[a-z0-9_]+$")]
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
