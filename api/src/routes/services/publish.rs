//! `POST /api/v1/services/{key}/versions`: administrators publish a passport version, append-only.

use actix_web::{http::header, post, web, HttpRequest, HttpResponse};
use domain::passport::Passport;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::request_lang;
use crate::schema::channel_schema;
use crate::state::AppState;
use crate::views::services::*;

/// A passport version to publish: the shape of the catalog's data files
/// (`domain/catalog/services/*.yaml`, one element of `versions`), as JSON.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct PassportDocument(pub serde_json::Value);

impl utoipa::ToSchema for PassportDocument {}

/// The shape of a passport version (`domain::passport::Passport`) at its top level: the fields it must
/// have, their types, and no others. What a schema cannot say (every value sourced to lines of a seed
/// text, codes unique, channels and subtypes consistent, the form a valid JSON Schema) is checked by
/// the catalog validator, which answers 422 `invalid_passport` listing every problem.
impl utoipa::PartialSchema for PassportDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let text = serde_json::json!({"type": "object", "additionalProperties": false, "minProperties": 1,
            "properties": {"kk": {"type": "string"}, "ru": {"type": "string"}, "en": {"type": "string"}}});
        let object = serde_json::json!({"type": "object"});
        let array = serde_json::json!({"type": "array", "items": {"type": "object"}});
        let schema = serde_json::json!({
            "type": "object",
            "description": "One passport version, in the shape of an element of `versions` in domain/catalog/services/*.yaml",
            "required": ["version", "title", "language", "act", "jurisdiction", "effective_from", "automation", "form"],
            "additionalProperties": false,
            "properties": {
                "key": {"type": "string", "description": "The service key; when given, it must equal the path's"},
                "version": {"type": "string", "minLength": 1, "description": "Version id, unique within the service"},
                "title": text,
                "language": {"type": "string", "enum": ["kk", "ru", "en"], "description": "The language of the act"},
                "completeness": {"type": "string", "enum": ["full", "title_only"]},
                "service_term_stated": {"type": "boolean"},
                "act": object,
                "jurisdiction": object,
                "effective_from": {"type": "string", "format": "date"},
                "effective_to": {"type": ["string", "null"], "format": "date"},
                "repealed_by": {"type": ["object", "null"]},
                "automation": object,
                "providers": array,
                "recipients": array,
                "subtypes": array,
                "channels": {"type": "array", "items": serde_json::to_value(channel_schema()).unwrap_or_default()},
                "terms": array,
                "questions": array,
                "documents": array,
                "refusal_to_accept": array,
                "refusal_grounds": array,
                "results": array,
                "fee": {"type": ["object", "null"]},
                "schedule": array,
                "form": {"type": "object", "description": "The application form, a JSON Schema (draft 2020-12) with `type: object`"},
                "open_questions": array,
            },
        });
        serde_json::from_value(schema).expect("a valid schema")
    }
}

impl validator::Validate for PassportDocument {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        // Checked in full by the catalog's own validator, which reports every problem at once.
        Ok(())
    }
}

/// Maps catalog validation errors (`terms.service_term.source`) to API field errors.
fn catalog_errors(e: domain::catalog::CatalogErrors) -> ApiError {
    ApiError::Validation {
        code: "invalid_passport",
        detail: format!("{} problem(s) in the passport", e.0.len()),
        errors: e
            .0
            .into_iter()
            .map(|x| {
                crate::error::FieldError::new(
                    if x.path.is_empty() { "body".into() } else { x.path },
                    "catalog_rule",
                    x.message,
                )
            })
            .collect(),
    }
}

/// Publish a new version of a service's passport (administrators).
///
/// Versions are append-only: publishing validates the whole passport as the shipped catalog is
/// validated (units, sources, codes, conditions, the form schema), never rewrites a published version
/// (409), and takes effect at once: applications filed from its `effective_from` bind to it.
#[utoipa::path(
    tag = "services",
    operation_id = "publishServiceVersion",
    params(("key" = String, Path, description = "Service key (a new key creates the service)", example = "free_school_meals")),
    request_body(content = PassportDocument, content_type = "application/json",
        description = "One passport version, in the shape of an element of `versions` in domain/catalog/services/*.yaml"),
    responses(
        (status = 201, description = "Published", body = PassportView, headers(("Location" = String, description = "The version's URL"))),
        (status = 409, description = "This version id is already published", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid passport: `invalid_passport` with every problem the catalog validator finds \
(texts in English and the act's language, every value sourced to existing lines of a seed text, codes unique, terms, \
documents and grounds on channels and subtypes the passport has, the form a JSON Schema of an object), or \
`validation_failed` with rule `must_match_path` (the body's `key` differs from the path)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/services/{key}/versions")]
pub async fn publish_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: crate::auth::Principal,
    key: web::Path<String>,
    body: crate::extract::ValidJson<PassportDocument>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[crate::auth::Role::Admin])?;
    let key = key.into_inner();
    let lang = request_lang(&req, None)?;
    let mut doc = body.0 .0;
    match doc.get("key").and_then(|k| k.as_str()) {
        Some(k) if k != key => {
            return Err(ApiError::field("key", "must_match_path", "the body's key differs from the path"))
        }
        _ => {}
    }
    if let Some(o) = doc.as_object_mut() {
        o.insert("key".into(), serde_json::Value::String(key.clone()));
    }
    let passport: Passport = serde_path_to_error::deserialize(doc.clone()).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Validation {
            code: "invalid_passport",
            detail: format!("`{path}`: {}", e.inner()),
            errors: vec![crate::error::FieldError::new(path, "type", e.inner().to_string())],
        }
    })?;
    let now = state.clock.now();
    let state2 = state.clone();
    let (published, law) = web::block(move || {
        state2.db.write_with(|c| -> Result<_, ApiError> {
            // Serialised with every other change of the law's data, through any instance: the change
            // builds on what the database holds, not on this instance's copy.
            persistence::law::begin_change(c)?;
            let mut law = state2.load_law(c)?;
            let catalog = &law.catalog;
            if catalog.service(&key).and_then(|s| s.version(&passport.version)).is_some() {
                return Err(ApiError::Conflict {
                    code: "version_exists",
                    detail: format!(
                        "`{key}` version `{}` is published; publish a new version id instead",
                        passport.version
                    ),
                    state: None,
                    allowed_actions: None,
                });
            }
            let next = catalog.with_version(None, passport.clone()).map_err(catalog_errors)?;
            let row = persistence::passports::PublishedPassport {
                service_key: key.clone(),
                version: passport.version.clone(),
                document: serde_json::to_string(&passport).map_err(|e| ApiError::Internal(e.to_string()))?,
                service_title: catalog
                    .service(&key)
                    .is_none()
                    .then(|| serde_json::to_string(&passport.title).unwrap_or_default()),
                published_at: now.naive_utc(),
                published_by: who.sub.clone(),
            };
            persistence::passports::insert(c, &row).map_err(|e| match e {
                persistence::StoreError::Conflict(_) => ApiError::Conflict {
                    code: "version_exists",
                    detail: "this version was published concurrently".into(),
                    state: None,
                    allowed_actions: None,
                },
                other => other.into(),
            })?;
            let stored = next.service(&key).and_then(|s| s.version(&passport.version)).cloned().expect("just added");
            law.catalog = next;
            Ok((stored, law))
        })
    })
    .await??;
    // Committed: this instance serves it at once, the others within a poll interval.
    state.install(law);
    let at = state.today();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/services/{}/versions/{}", published.key, published.version)))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .json(PassportView::new(&published, lang, at)))
}
