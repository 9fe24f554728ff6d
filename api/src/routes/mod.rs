//! The routes, one module per resource. [`register`] adds each handler together with its OpenAPI
//! operation (utoipa-actix-web), so the spec and the server cannot drift apart.

pub mod access_log;
pub mod applications;
pub mod calendar;
pub mod complaints;
pub mod docs;
pub mod documents;
pub mod events;
pub mod health;
pub mod monitoring;
pub mod notifications;
pub mod organizations;
pub mod preschool;
pub mod registries;
pub mod services;
pub mod staff;
pub mod subscriptions;

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
            .service(services::list::list_services)
            .service(services::read::get_service)
            .service(services::read::list_versions)
            .service(services::publish::publish_version)
            .service(services::read::get_version)
            .service(services::form::get_form)
            .service(services::form::get_version_form)
            .service(services::documents::get_documents)
            .service(organizations::list_organizations)
            .service(staff::list_staff)
            .service(staff::put_staff)
            .service(staff::deactivate_staff)
            .service(calendar::deadline::compute_deadline)
            .service(calendar::year::get_year)
            .service(calendar::change::put_year)
            .service(applications::submit::submit_application)
            .service(applications::read::list_applications)
            .service(applications::read::get_application)
            .service(applications::read::get_application_history)
            .service(registries::intake::intake_check)
            // `signing-key` and `verify` before `{id}`: routes match in registration order.
            .service(documents::verify::signing_key)
            .service(documents::verify::verify_posted)
            .service(documents::verify::verify_document)
            .service(documents::read::download_document)
            .service(documents::upload::upload_document)
            .service(documents::read::list_documents)
            .service(applications::commands::accept)
            .service(applications::commands::refuse_intake)
            .service(applications::commands::assign)
            .service(applications::commands::approve)
            .service(applications::commands::preliminary_refusal)
            .service(applications::commands::record_hearing)
            .service(applications::commands::refuse)
            .service(applications::commands::withdraw)
            .service(applications::actions::actions)
            .service(applications::stages::record_stage_event)
            .service(complaints::file::file_complaint)
            .service(complaints::read::list_complaints)
            .service(complaints::read::get_complaint)
            .service(complaints::steps::satisfy)
            .service(complaints::steps::forward)
            .service(complaints::steps::decide_complaint)
            .service(monitoring::applications_overview)
            .service(notifications::list)
            .service(notifications::mark_read)
            .service(registries::records::lookup_records)
            .service(registries::records::create_record)
            .service(registries::records::update_record)
            .service(registries::records::delete_record)
            .service(events::list)
            .service(subscriptions::create_subscription)
            .service(subscriptions::list_subscriptions)
            .service(subscriptions::get_subscription)
            .service(subscriptions::delete_subscription)
            .service(subscriptions::list_deliveries)
            .service(subscriptions::replay_delivery)
            .service(access_log::mine)
            .service(access_log::list)
            .service(preschool::list_categories)
            .service(preschool::put_category)
            .service(preschool::add_referral_term)
            .service(preschool::put_preschool)
            .service(preschool::record_places)
            .service(preschool::expire_referrals)
            .service(preschool::list_entries)
            .service(preschool::decline)
            .service(preschool::withdraw)
            .service(preschool::enrol)
            .service(preschool::queue_monitoring),
    );
}

/// The paths and methods of the spec, to tell an unknown path (404) from a known path with the wrong
/// method (405 with `Allow`), and the declared lengths of path and query parameters, which
/// [`crate::guard::inner`] enforces before any route runs.
#[derive(Debug, Clone, Default)]
pub struct RouteTable(Vec<RouteEntry>);

#[derive(Debug, Clone, Default)]
pub struct RouteEntry {
    pub segments: Vec<String>,
    /// Upper-case methods; HEAD wherever GET is (answered by the GET route).
    pub methods: Vec<String>,
    /// `maxLength` of each string path parameter.
    pub path_max: std::collections::HashMap<String, usize>,
    /// `maxLength` of each string query parameter, by (method, name).
    pub query_max: std::collections::HashMap<(String, String), usize>,
}

impl RouteTable {
    pub fn from_spec(spec: &OpenApi) -> Self {
        RouteTable(
            spec.paths
                .paths
                .iter()
                .map(|(path, item)| {
                    let segments = path.trim_matches('/').split('/').map(String::from).collect();
                    let v = serde_json::to_value(item).unwrap_or_default();
                    let mut entry = RouteEntry { segments, ..Default::default() };
                    for m in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
                        let Some(op) = v.get(m) else { continue };
                        entry.methods.push(m.to_ascii_uppercase());
                        if m == "get" {
                            entry.methods.push("HEAD".into());
                        }
                        for p in op.get("parameters").and_then(|p| p.as_array()).into_iter().flatten() {
                            let (Some(name), Some(place)) =
                                (p.get("name").and_then(|n| n.as_str()), p.get("in").and_then(|n| n.as_str()))
                            else {
                                continue;
                            };
                            let Some(max) = p.pointer("/schema/maxLength").and_then(|m| m.as_u64()) else { continue };
                            match place {
                                "path" => {
                                    entry.path_max.insert(name.to_string(), max as usize);
                                }
                                "query" => {
                                    entry.query_max.insert((m.to_ascii_uppercase(), name.to_string()), max as usize);
                                }
                                _ => {}
                            }
                        }
                    }
                    entry.methods.sort();
                    entry.methods.dedup();
                    entry
                })
                .collect(),
        )
    }

    fn matching<'a>(&'a self, path: &str) -> (Vec<&'a RouteEntry>, usize) {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let matching: Vec<&RouteEntry> = self
            .0
            .iter()
            .filter(|e| {
                e.segments.len() == parts.len()
                    && e.segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p)
            })
            .collect();
        // `/documents/verify` is a resource of its own, not `/documents/{id}` with id "verify": the
        // most literal matching paths decide which methods exist.
        let best = matching.iter().map(|e| literal(&e.segments)).max().unwrap_or(0);
        (matching.into_iter().filter(|e| literal(&e.segments) == best).collect(), best)
    }

    /// The spec path that `path` is an instance of (the most literal one).
    pub fn best_match(&self, path: &str) -> Option<&RouteEntry> {
        self.matching(path).0.into_iter().next()
    }

    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = self.matching(path).0.iter().flat_map(|e| e.methods.clone()).collect();
        allowed.sort();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn literal(segs: &[String]) -> usize {
    segs.iter().filter(|s| !s.starts_with('{')).count()
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
        assert_eq!(table.allowed("/api/v1/documents/0190-abc"), Some(vec!["GET".to_string(), "HEAD".to_string()]));
        assert_eq!(
            table.allowed("/api/v1/applications"),
            Some(vec!["GET".to_string(), "HEAD".to_string(), "POST".to_string()])
        );
        assert_eq!(table.allowed("/api/v1/nowhere"), None);
    }
}
