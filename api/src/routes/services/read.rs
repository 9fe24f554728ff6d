//! Reading a service's passport: the version in force, every version, one version.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::extract::{request_lang, ValidQuery};
use crate::state::AppState;
use crate::views::services::*;

/// Read the passport of a service: the version in force today, or on `at`. Where regional acts of
/// several regions were in force at once, a national act governs, else the most recent; every version
/// in force is listed by `GET /api/v1/services/{key}/versions`.
#[utoipa::path(
    tag = "services",
    operation_id = "getService",
    params(("key" = String, Path, description = "Service key", example = "guardianship_certificate"), PassportQuery),
    responses(
        (status = 200, description = "The passport version in force", body = PassportView),
        (status = 404, description = "No such service, or no version in force on that date", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/services/{key}")]
pub async fn get_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: ValidQuery<PassportQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| state.today());
    let catalog = state.catalog();
    let p = governing_version(&catalog, &key, at)?;
    Ok(localized(lang, PassportView::new(p, lang, at)))
}

/// List every version of a service's passport, oldest first, with its status on a date.
#[utoipa::path(
    tag = "services",
    operation_id = "listServiceVersions",
    params(("key" = String, Path, description = "Service key", example = "guardianship_certificate"), PassportQuery),
    responses((status = 200, description = "All versions", body = VersionList)),
)]
#[get("/services/{key}/versions")]
pub async fn list_versions(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: ValidQuery<PassportQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| state.today());
    let catalog = state.catalog();
    let service = service_or_404(&catalog, &key)?;
    let governing = service.in_force(at).map(|p| p.version.clone());
    let versions = service
        .versions
        .iter()
        .map(|p| VersionSummary {
            version: p.version.clone(),
            title: t(&p.title, lang),
            jurisdiction: jurisdiction(p, lang),
            act_number: p.act.number.clone(),
            act_date: p.act.date,
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            status: code(&p.status_on(at)),
            governing: governing.as_deref() == Some(p.version.as_str()),
        })
        .collect();
    Ok(localized(lang, VersionList { key: service.key.clone(), title: t(&service.title, lang), at, versions }))
}

/// Read one version of a passport by its id.
#[utoipa::path(
    tag = "services",
    operation_id = "getServiceVersion",
    params(
        ("key" = String, Path, description = "Service key", example = "guardianship_certificate"),
        ("version" = String, Path, description = "Version id", example = "order-414-2022"),
        PassportQuery,
    ),
    responses((status = 200, description = "The passport version", body = PassportView)),
)]
#[get("/services/{key}/versions/{version}")]
pub async fn get_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: ValidQuery<PassportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, version) = path.into_inner();
    let lang = request_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| state.today());
    let catalog = state.catalog();
    let p = service_or_404(&catalog, &key)?
        .version(&version)
        .ok_or_else(|| ApiError::not_found(format!("service `{key}` has no version `{version}`")))?;
    Ok(localized(lang, PassportView::new(p, lang, at)))
}
