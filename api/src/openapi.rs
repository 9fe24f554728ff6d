//! The OpenAPI 3.1 document, produced from the registered routes.
//!
//! `openapi.yaml` at the repository root is the committed copy of [`spec`]; a test fails when they
//! differ (regenerate with `cargo run -p api -- openapi > openapi.yaml`).

use actix_web::App;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Spec, Ref};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem, PROBLEM_JSON};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kazakhstan state services: family, children and education",
        description = "Service passports (the law as data, every value with its source), applications filed on the \
portal, at State Corporation centres or at the provider's office, their terms on the Kazakh business calendar, and \
their history.\n\nErrors are RFC 9457 `application/problem+json` with a stable `code` and, for invalid input, \
`errors[]` naming each field and rule. Authenticate with `Authorization: Bearer <JWT>` (claims `sub`, `role`, `org`, \
`exp`). Texts are in Kazakh, Russian or English (`?lang=` or `Accept-Language`).",
        version = "1.0.0",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "services", description = "Service passports: terms, documents, refusal grounds, forms, with sources"),
        (name = "applications", description = "Filing and following applications"),
        (name = "lifecycle", description = "Commands that move an application through the procedure: intake, assignment, decision, preliminary refusal and hearing, withdrawal"),
        (name = "calendar", description = "The Kazakh business calendar (days off with their reasons, decree transfers, working hours, time zone) and term arithmetic on it; administrators record new decrees"),
        (name = "complaints", description = "Complaints about a provider's decision, action or inaction (order No 414, rules para 38): satisfied by the provider or forwarded to the review body within 3 working days, reviewed within 5 (provider) or 15 (review body) working days"),
        (name = "monitoring", description = "Applications by stage, overdue and at risk, decided on time, time per stage against the norm, complaints per service, for providers and the review body"),
        (name = "events", description = "The ordered feed of changes, for integrators"),
        (name = "notifications", description = "What applicants were told about their applications, in kk/ru/en"),
        (name = "documents", description = "Attachments of an application, and result documents signed by the server (Ed25519 JWS), verifiable by anyone"),
        (name = "registries", description = "State registries the provider queries itself (persons, civil registry, criminal records, ...), embedded and edited by administrators; the intake check that spares the applicant what they hold"),
        (name = "organizations", description = "Providers, State Corporation centres, the review body"),
        (name = "health", description = "Liveness and readiness probes"),
    ),
    components(schemas(Problem, FieldError)),
)]
pub struct ApiDoc;

impl ApiDoc {
    /// The hand-written part of the spec, before the routes add their operations.
    pub fn openapi_base() -> Spec {
        <ApiDoc as OpenApi>::openapi()
    }
}

/// The spec of every registered route, with the shared security scheme and error responses.
pub fn spec() -> Spec {
    let (_, api) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi_base()).configure(crate::routes::register).split_for_parts();
    finish_spec(api)
}

fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
        .build()
        .into()
}

/// Adds what every operation shares, derived from what the operation has, so the documented errors
/// are exactly those the server can answer with.
fn finish_spec(mut api: Spec) -> Spec {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme("bearer", SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()));
    for (path, item) in api.paths.paths.iter_mut() {
        for op in operations(item) {
            let has_body = op.request_body.is_some();
            let has_query = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
            });
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut add = |code: &str, description: &str| {
                op.responses.responses.entry(code.to_string()).or_insert_with(|| problem(description));
            };
            if has_body || has_query {
                add("400", "Malformed request: unparsable JSON or query string");
            }
            if secured {
                add("401", "Missing, expired, malformed or wrongly signed token");
                add("403", "The caller's role may not perform this operation");
            }
            if path.contains('{') {
                add("404", "Not found, or not visible to the caller");
            }
            if has_body {
                add("413", "The body exceeds the size limit");
                add("415", "The body is not JSON");
            }
            if has_body || has_query {
                add("422", "Invalid input: `errors` names each field and rule");
            }
            add("500", "Unexpected error (logged)");
            if path != "/health/live" {
                add("503", "The database is unavailable");
            }
        }
    }
    api
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}
