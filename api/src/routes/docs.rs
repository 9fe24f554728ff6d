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
    // What utoipa's model cannot carry is added to the JSON (`openapi::plain_text`; a no-op when the
    // document given at start-up already has it), so this is exactly `openapi::document`.
    HttpResponse::Ok().json(crate::openapi::plain_json(&spec.0))
}
