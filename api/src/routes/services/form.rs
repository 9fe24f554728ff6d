//! The application form of a service (the version in force, or one version) as JSON Schema 2020-12.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::state::AppState;
use crate::views::services::*;

/// The application form of the version in force (or on `at`), as JSON Schema draft 2020-12.
///
/// Each property carries `x-title` with its label in Kazakh, Russian and English; with `lang` (or
/// `Accept-Language`) also `title` in that language. `examples[0]` is a complete form the server
/// accepts (required fields only). The server checks a filed form against this schema (`format: iin`
/// and `format: bin` also check the number's check digit).
#[utoipa::path(
    tag = "services",
    operation_id = "getServiceForm",
    params(("key" = String, Path, description = "Service key", example = "free_school_meals"), FormQuery),
    responses((status = 200, description = "The form's JSON Schema", content_type = "application/schema+json", body = Object)),
)]
#[get("/services/{key}/form")]
pub async fn get_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: ValidQuery<FormQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = form_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| state.today());
    let catalog = state.catalog();
    let p = governing_version(&catalog, &key, at)?;
    Ok(form_response(p, lang))
}

/// The application form of one version of a passport, as JSON Schema draft 2020-12: the form that
/// applications bound to that version were checked against (`title`, `examples` as for the form in force).
#[utoipa::path(
    tag = "services",
    operation_id = "getServiceVersionForm",
    params(
        ("key" = String, Path, description = "Service key", example = "free_school_meals"),
        ("version" = String, Path, description = "Version id", example = "order-414-2022"),
        FormLangQuery,
    ),
    responses((status = 200, description = "The form's JSON Schema", content_type = "application/schema+json", body = Object)),
)]
#[get("/services/{key}/versions/{version}/form")]
pub async fn get_version_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: ValidQuery<FormLangQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, version) = path.into_inner();
    let lang = form_lang(&req, q.lang.as_deref())?;
    let catalog = state.catalog();
    let p = service_or_404(&catalog, &key)?
        .version(&version)
        .ok_or_else(|| ApiError::not_found(format!("service `{key}` has no version `{version}`")))?;
    Ok(form_response(p, lang))
}
