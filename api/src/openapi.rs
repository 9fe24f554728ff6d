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
        (name = "preschool-queue", description = "The preschool queue: children placed in a queue per territory and year of birth on the approval of their application, with a signed registration slip; free places offered in the queue's order as signed referrals; expiry, decline, withdrawal, enrolment; priority categories and the referral term as administrators' data citing the act in force (an outside source)"),
        (name = "events", description = "The ordered feed of changes, for integrators"),
        (name = "subscriptions", description = "Integrators are told, not made to poll: webhooks signed per the Standard Webhooks specification or NATS JetStream subjects receive each matching event as a CloudEvents 1.0 message carrying ids, status and a link (never personal data), retried with back-off, dead-lettered and replayable. For administrators and service accounts (`role` `system`, `sub` the client id, `scopes` such as `subscriptions:manage`, `events:read:<service>`, `applications:read:<service>`; a missing scope is 403 naming it)"),
        (name = "notifications", description = "What applicants were told about their applications, in kk/ru/en"),
        (name = "documents", description = "Attachments of an application, and result documents signed by the server (Ed25519 JWS), verifiable by anyone"),
        (name = "registries", description = "State registries the provider queries itself (persons, civil registry, criminal records, ...), embedded and edited by administrators; the intake check that spares the applicant what they hold"),
        (name = "organizations", description = "Providers, State Corporation centres, the review body, and each one's staff directory"),
        (name = "access-log", description = "The access journal: every read of personal data (who, role, organisation, what, for which application, when); applicants see who read theirs"),
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

/// The YAML text of the spec (the committed `openapi.yaml`), written so that YAML 1.1 readers (PyYAML,
/// SnakeYAML) and YAML 1.2 readers both read exactly the JSON of `/api/v1/openapi.json`: see [`crate::yaml`].
pub fn to_yaml(spec: &Spec) -> Result<String, crate::yaml::Error> {
    crate::yaml::to_string(&document(spec)?)
}

/// The spec as it is served and committed: [`spec`] (utoipa's model) with what that model cannot carry
/// added ([`plain_text`]: `propertyNames`, a schema of any type), in the order of the model.
pub fn document(spec: &Spec) -> Result<serde_yaml::Value, crate::yaml::Error> {
    let mut doc = serde_yaml::to_value(spec)?;
    plain_text(&mut doc);
    Ok(doc)
}

/// [`document`] as JSON (the body of `/api/v1/openapi.json`).
pub fn document_json(spec: &Spec) -> serde_json::Value {
    let doc = document(spec).expect("the spec serialises");
    serde_json::to_value(doc).expect("the spec is JSON")
}

/// The spec of every registered route, with the shared security scheme and error responses.
pub fn spec() -> Spec {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi_base())
        .configure(crate::routes::register)
        .split_for_parts();
    add_links(add_examples(finish_spec(api)))
}

/// Real answers of the server about real services of the catalog (free_school_meals filed, accepted,
/// assigned, approved; a complaint; registry records), by operationId, captured from a live server by
/// `CONTRACT_STAGES=capture tests/contract/run.sh` (arrays cut to their first item).
const RESPONSE_EXAMPLES: &str = include_str!("openapi_examples.json");

/// The service whose passport illustrates `publishServiceVersion`.
const EXAMPLE_SERVICE: &str = "free_school_meals";

/// Puts the captured examples on each operation's main (2xx JSON) response, and the catalog's own
/// passport of `free_school_meals` on the request body of `publishServiceVersion`.
fn add_examples(mut api: Spec) -> Spec {
    let mut examples: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(RESPONSE_EXAMPLES).unwrap_or_default();
    if let Some(v) = examples.get("getServiceVersion").cloned() {
        examples.entry("publishServiceVersion").or_insert(v);
    }
    examples.entry("getOpenApi").or_insert_with(|| {
        serde_json::json!({"openapi": "3.1.0", "info": {"title": "Kazakhstan state services: family, children and education", "version": "1.0.0"}, "paths": {}})
    });
    let passport = domain::catalog::Catalog::builtin()
        .service(EXAMPLE_SERVICE)
        .and_then(|s| s.versions.last())
        .and_then(|p| serde_json::to_value(p).ok());
    for (_, item) in api.paths.paths.iter_mut() {
        for op in operations(item) {
            let Some(id) = op.operation_id.clone() else { continue };
            if id == "publishServiceVersion" {
                if let (Some(body), Some(passport)) = (op.request_body.as_mut(), passport.clone()) {
                    for content in body.content.values_mut() {
                        content.example = Some(passport.clone());
                    }
                }
            }
            let Some(example) = examples.get(&id) else { continue };
            let main = op.responses.responses.iter_mut().find(|(code, _)| code.starts_with('2'));
            if let Some((_, utoipa::openapi::RefOr::T(response))) = main {
                if let Some(content) = response.content.get_mut("application/json") {
                    content.example = Some(example.clone());
                }
            }
        }
    }
    api
}

/// OpenAPI links for stateful clients (Schemathesis' stateful phase, generated SDKs): a filed
/// application's `id` feeds every `/applications/{id}/...` operation and its `ETag` their `If-Match`;
/// a filed complaint's `id` feeds `/complaints/{id}/...`; a notification list feeds `.../read`.
fn add_links(mut api: Spec) -> Spec {
    use utoipa::openapi::extensions::Extensions;
    use utoipa::openapi::link::LinkBuilder;
    // (operationId, path, takes If-Match)
    let mut ops: Vec<(String, String, bool)> = Vec::new();
    for (path, item) in api.paths.paths.iter_mut() {
        for op in operations(item) {
            if let Some(id) = &op.operation_id {
                let if_match = op.parameters.iter().flatten().any(|p| p.name == "If-Match");
                ops.push((id.clone(), path.clone(), if_match));
            }
        }
    }
    let targets = |prefix: &str, commands_only: bool| -> Vec<(String, bool)> {
        ops.iter()
            .filter(|(_, path, if_match)| {
                path.starts_with(prefix) && !path[prefix.len()..].contains('{') && (!commands_only || *if_match)
            })
            .map(|(id, _, if_match)| (id.clone(), *if_match))
            .collect()
    };
    let sources = [
        ("/api/v1/applications", "post", targets("/api/v1/applications/{id}", false), "$response.body#/id"),
        ("/api/v1/applications/{id}", "get", targets("/api/v1/applications/{id}", true), "$response.body#/id"),
        (
            "/api/v1/applications/{id}/complaints",
            "post",
            targets("/api/v1/complaints/{id}", false),
            "$response.body#/id",
        ),
        (
            "/api/v1/me/notifications",
            "get",
            targets("/api/v1/me/notifications/{id}", false),
            "$response.body#/items/0/id",
        ),
    ];
    for (path, method, targets, id_expr) in sources {
        let Some(item) = api.paths.paths.get_mut(path) else { continue };
        let op = match method {
            "post" => item.post.as_mut(),
            _ => item.get.as_mut(),
        };
        let Some(op) = op else { continue };
        let main = op.responses.responses.iter_mut().find(|(code, _)| code.starts_with('2'));
        let Some((_, utoipa::openapi::RefOr::T(response))) = main else { continue };
        for (target, if_match) in targets {
            let mut link = LinkBuilder::new().parameter("id", id_expr);
            if if_match {
                link = link.parameter("header.If-Match", "$response.header.ETag");
            }
            // utoipa 5 serialises `Link::operation_id` as `operation_id`; OpenAPI spells it `operationId`.
            let link = link.extensions(Some(Extensions::from_iter([("operationId", target.clone())]))).build();
            let name = format!("{}{}", target[..1].to_ascii_uppercase(), &target[1..]);
            response.links.insert(name, utoipa::openapi::RefOr::T(link));
        }
    }
    api
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
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
    );
    for (path, item) in api.paths.paths.iter_mut() {
        for op in operations(item) {
            // OpenAPI requires `required: true` on path parameters; utoipa leaves it out for `schema_with` ones.
            for p in op.parameters.iter_mut().flatten() {
                if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path) {
                    p.required = utoipa::openapi::Required::True;
                }
                bound_length(p);
            }
            let has_body = op.request_body.is_some();
            let has_query = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
            });
            // A path or header parameter with a constrained schema (an enum, a pattern, bounds) is checked by the
            // server, which answers 422 naming it (`registry`, `header.If-Match`).
            let has_checked_param = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter().any(|p| {
                    let schema = serde_json::to_value(&p.schema).unwrap_or_default();
                    ["enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "format"]
                        .iter()
                        .any(|k| schema.get(*k).is_some())
                })
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
                add("408", "The body did not arrive within the time-out");
                add("413", "The body exceeds the size limit");
                add("415", "The body is not JSON");
            }
            if has_body || has_query || has_checked_param {
                add("422", "Invalid input: `errors` names each field and rule");
            }
            add("500", "Unexpected error (logged)");
            if path != "/health/live" {
                add("503", "The database is unavailable");
            }
            if !path.starts_with("/health/") {
                let limited = ResponseBuilder::new()
                    .description(
                        "Too many requests from this caller or client address; retry after `Retry-After` seconds",
                    )
                    .header(
                        "Retry-After",
                        utoipa::openapi::HeaderBuilder::new()
                            .schema(
                                utoipa::openapi::ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::Type::Integer),
                            )
                            .description(Some("Seconds to wait before retrying"))
                            .build(),
                    )
                    .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
                    .build();
                op.responses.responses.entry("429".to_string()).or_insert_with(|| limited.into());
            }
        }
    }
    api
}

/// The longest path parameter (an id, a key, a version: the width of the columns they are stored in)
/// and query value the server accepts, unless a route declares its own bound.
pub const MAX_PATH_PARAM: usize = 64;
pub const MAX_QUERY_VALUE: usize = 256;

/// Declares a length bound on string path and query parameters that have none (enforced by
/// [`crate::guard::inner`] from the spec itself): a path value longer is 404, a query value 422.
fn bound_length(p: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::path::ParameterIn;
    let max = match p.parameter_in {
        ParameterIn::Path => MAX_PATH_PARAM,
        ParameterIn::Query => MAX_QUERY_VALUE,
        _ => return,
    };
    let Some(schema) = p.schema.as_ref() else { return };
    let mut v = serde_json::to_value(schema).unwrap_or_default();
    let is_string =
        v.get("type").is_some_and(|t| t == "string" || t.as_array().is_some_and(|a| a.iter().any(|x| x == "string")));
    if !is_string || v.get("enum").is_some() || v.get("maxLength").is_some() {
        return;
    }
    v["maxLength"] = serde_json::json!(max);
    if let Ok(bounded) = serde_json::from_value(v) {
        p.schema = Some(bounded);
    }
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

/// The characters the server refuses in every text it is sent ([`crate::extract::is_bad_control`]: C0
/// controls other than tab, line feed and carriage return, and DEL), as a JSON Schema `pattern`.
pub const PLAIN_TEXT: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$";

/// The component every free-form JSON value of a request refers to: any JSON whose strings and member
/// names hold none of those characters.
const PLAIN_JSON: &str = "PlainJson";

/// Says in the spec what the server refuses centrally (422 `control_character`): control characters in a
/// path or query value ([`crate::guard::inner`]) and in any string or member name of a JSON body
/// ([`crate::extract::parse_json`]). Every string of a request without an enum, a pattern or a format of
/// its own gets [`PLAIN_TEXT`]; every free-form object of a request body bounds its member names and
/// values the same way ([`PLAIN_JSON`]). Response schemas are left as they are, except the components a
/// request shares with them.
pub fn plain_text(doc: &mut serde_yaml::Value) {
    use serde_yaml::Value;
    let mut pending: Vec<String> = Vec::new();
    // The parameters and JSON request bodies, and (below) the components they reach.
    let ops = doc.get_mut("paths").and_then(Value::as_mapping_mut).into_iter().flat_map(|paths| paths.iter_mut());
    for (_, item) in ops {
        for (_, op) in item.as_mapping_mut().into_iter().flat_map(|m| m.iter_mut()) {
            let params = op.get_mut("parameters").and_then(Value::as_sequence_mut).into_iter().flatten();
            for p in params {
                if matches!(p.get("in").and_then(Value::as_str), Some("path" | "query")) {
                    if let Some(schema) = p.get_mut("schema") {
                        plain_schema(schema, &mut pending);
                    }
                }
            }
            let body = op
                .get_mut("requestBody")
                .and_then(|b| b.get_mut("content"))
                .and_then(|c| c.get_mut("application/json"))
                .and_then(|j| j.get_mut("schema"));
            if let Some(schema) = body {
                plain_schema(schema, &mut pending);
            }
        }
    }
    let mut done = std::collections::BTreeSet::new();
    let Some(schemas) = doc.get_mut("components").and_then(|c| c.get_mut("schemas")).and_then(Value::as_mapping_mut)
    else {
        return;
    };
    while let Some(name) = pending.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get_mut(name.as_str()) {
            plain_schema(schema, &mut pending);
        }
    }
    if done.contains(PLAIN_JSON) {
        let reference = format!("#/components/schemas/{PLAIN_JSON}");
        // Any type: `pattern` bounds it where it is a string, `propertyNames` where it is an object. Members and
        // items are bounded with `unevaluatedProperties` / `unevaluatedItems` (the same as `additionalProperties` /
        // `items` here, there being no `properties` or `prefixItems`), which client generators leave alone:
        // with `additionalProperties` openapi-typescript types every JSON value as an object, and a union of all
        // types refers to itself in a way TypeScript refuses. So generated clients see `unknown`.
        let any = serde_json::json!({
            "description": "Any JSON value whose strings and member names hold no control characters \
        (U+0000-U+001F other than tab and line breaks, U+007F)",
            "pattern": PLAIN_TEXT,
            "propertyNames": {"pattern": PLAIN_TEXT},
            "unevaluatedProperties": {"$ref": reference},
            "unevaluatedItems": {"$ref": reference},
        });
        schemas.insert(PLAIN_JSON.into(), serde_yaml::to_value(any).expect("JSON is YAML"));
        // In name order, as utoipa writes the other components.
        let mut sorted: Vec<_> = std::mem::take(schemas).into_iter().collect();
        sorted.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
        schemas.extend(sorted);
    }
}

/// [`plain_text`] on the served JSON (`/api/v1/openapi.json`).
pub fn plain_json(doc: &serde_json::Value) -> serde_json::Value {
    let Ok(mut v) = serde_yaml::to_value(doc) else { return doc.clone() };
    plain_text(&mut v);
    serde_json::to_value(v).unwrap_or_else(|_| doc.clone())
}

/// [`plain_text`] on one schema and the schemas inside it; the components it names are added to `refs`.
fn plain_schema(schema: &mut serde_yaml::Value, refs: &mut Vec<String>) {
    use serde_yaml::Value;
    let Some(obj) = schema.as_mapping_mut() else { return };
    if let Some(name) = obj.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/")) {
        refs.push(name.to_string());
    }
    let types: Vec<String> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Sequence(ts)) => ts.iter().filter_map(|t| t.as_str().map(String::from)).collect(),
        _ => vec![],
    };
    let has = |k: &str| obj.contains_key(k);
    let constrained = ["enum", "const", "pattern", "format"].iter().any(|k| has(k));
    let is_object = types.iter().any(|t| t == "object");
    let free_form = is_object && !has("properties") && !has("additionalProperties") && !has("propertyNames");
    let free_names =
        is_object && !has("propertyNames") && obj.get("additionalProperties").is_some_and(Value::is_mapping);
    if types.iter().any(|t| t == "string") && !constrained {
        obj.insert("pattern".into(), PLAIN_TEXT.into());
    }
    if free_form || free_names {
        let mut names = serde_yaml::Mapping::new();
        names.insert("pattern".into(), PLAIN_TEXT.into());
        obj.insert("propertyNames".into(), Value::Mapping(names));
    }
    if free_form {
        let mut any = serde_yaml::Mapping::new();
        any.insert("$ref".into(), format!("#/components/schemas/{PLAIN_JSON}").into());
        obj.insert("additionalProperties".into(), Value::Mapping(any));
    }
    for (key, value) in obj.iter_mut() {
        match key.as_str().unwrap_or_default() {
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                for (_, v) in value.as_mapping_mut().into_iter().flat_map(|m| m.iter_mut()) {
                    plain_schema(v, refs);
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "unevaluatedProperties"
            | "unevaluatedItems" => plain_schema(value, refs),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                for v in value.as_sequence_mut().into_iter().flatten() {
                    plain_schema(v, refs);
                }
            }
            _ => {}
        }
    }
}
