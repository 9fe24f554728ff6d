//! `/api/v1/openapi.json`: this API's own contract, generated from the routes at start-up.

use actix_web::{get, web, HttpResponse};

/// The spec as served (computed once at start).
pub struct SpecDocument(pub serde_json::Value);

/// The OpenAPI 3.1 document of this API (the committed `openapi.yaml`, as JSON).
#[utoipa::path(
    tag = "health",
    operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)),
)]
#[get("/openapi.json")]
pub async fn openapi_json(spec: web::Data<SpecDocument>) -> HttpResponse {
    HttpResponse::Ok().json(&spec.0)
}
