//! The routes, one module per resource. [`register`] adds each handler together with its OpenAPI
//! operation (utoipa-actix-web), so the spec and the server cannot drift apart.

pub mod applications;
pub mod calendar;
pub mod complaints;
pub mod docs;
pub mod documents;
pub mod events;
pub mod health;
pub mod lifecycle;
pub mod monitoring;
pub mod notifications;
pub mod organizations;
pub mod registries;
pub mod services;

use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::openapi::OpenApi;
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::error::ApiError;

pub const API_PREFIX: &str = "/api/v1";

/// Registers every operation: health probes at the root, the API under `/api/v1`.
pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(health::live).service(health::ready).service(
        scope::scope(API_PREFIX)
            .service(docs::openapi_json)
            .service(services::list_services)
            .service(services::get_service)
            .service(services::list_versions)
            .service(services::publish_version)
            .service(services::get_version)
            .service(services::get_form)
            .service(services::get_version_form)
            .service(services::get_documents)
            .service(organizations::list_organizations)
            .service(calendar::compute_deadline)
            .service(calendar::get_year)
            .service(calendar::put_year)
            .service(applications::submit_application)
            .service(applications::list_applications)
            .service(applications::get_application)
            .service(applications::get_application_history)
            .service(registries::intake_check)
            // `signing-key` and `verify` before `{id}`: routes match in registration order.
            .service(documents::signing_key)
            .service(documents::verify_posted)
            .service(documents::verify_document)
            .service(documents::download_document)
            .service(documents::upload_document)
            .service(documents::list_documents)
            .service(lifecycle::accept)
            .service(lifecycle::refuse_intake)
            .service(lifecycle::assign)
            .service(lifecycle::approve)
            .service(lifecycle::preliminary_refusal)
            .service(lifecycle::record_hearing)
            .service(lifecycle::refuse)
            .service(lifecycle::withdraw)
            .service(lifecycle::actions)
            .service(lifecycle::record_stage_event)
            .service(complaints::file_complaint)
            .service(complaints::list_complaints)
            .service(complaints::get_complaint)
            .service(complaints::satisfy)
            .service(complaints::forward)
            .service(complaints::decide)
            .service(monitoring::applications_overview)
            .service(notifications::list)
            .service(notifications::mark_read)
            .service(registries::lookup_records)
            .service(registries::create_record)
            .service(registries::update_record)
            .service(registries::delete_record)
            .service(events::list),
    );
}

/// The paths and methods of the spec, to tell an unknown path (404) from a known path with the wrong
/// method (405 with `Allow`).
#[derive(Debug, Clone, Default)]
pub struct RouteTable(Vec<(Vec<String>, Vec<String>)>);

impl RouteTable {
    pub fn from_spec(spec: &OpenApi) -> Self {
        RouteTable(
            spec.paths
                .paths
                .iter()
                .map(|(path, item)| {
                    let segments = path.trim_matches('/').split('/').map(String::from).collect();
                    let v = serde_json::to_value(item).unwrap_or_default();
                    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
                        .iter()
                        .filter(|m| v.get(**m).is_some())
                        .map(|m| m.to_ascii_uppercase())
                        .collect();
                    (segments, methods)
                })
                .collect(),
        )
    }

    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let matching: Vec<&(Vec<String>, Vec<String>)> = self
            .0
            .iter()
            .filter(|(segs, _)| {
                segs.len() == parts.len()
                    && segs.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p)
            })
            .collect();
        // `/documents/verify` is a resource of its own, not `/documents/{id}` with id "verify": the
        // most literal matching paths decide which methods exist.
        let literal = |segs: &Vec<String>| segs.iter().filter(|s| !s.starts_with('{')).count();
        let best = matching.iter().map(|(segs, _)| literal(segs)).max().unwrap_or(0);
        let mut allowed: Vec<String> =
            matching.iter().filter(|(segs, _)| literal(segs) == best).flat_map(|(_, m)| m.clone()).collect();
        allowed.sort();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// Everything no route matched: 405 when the path exists with other methods, else 404.
pub async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        // The method exists for this shape of path, but the value in it does not fit the route
        // (e.g. a year that is not a number): there is no such resource.
        Some(allowed) if allowed.iter().any(|m| m == req.method().as_str()) => {
            ApiError::NotFound(format!("no resource at {}", req.path()))
        }
        Some(allowed) => ApiError::MethodNotAllowed { allowed },
        None => ApiError::NotFound(format!("no resource at {}", req.path())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_paths_win_over_parameters_for_allow() {
        let table = RouteTable::from_spec(&crate::openapi::spec());
        assert_eq!(table.allowed("/api/v1/documents/verify"), Some(vec!["POST".to_string()]));
        assert_eq!(table.allowed("/api/v1/documents/0190-abc"), Some(vec!["GET".to_string()]));
        assert_eq!(table.allowed("/api/v1/applications"), Some(vec!["GET".to_string(), "POST".to_string()]));
        assert_eq!(table.allowed("/api/v1/nowhere"), None);
    }
}
