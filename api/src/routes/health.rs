//! Liveness and readiness probes.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// `sqlite` or `postgres`, for readiness.
    pub database: Option<String>,
}

/// The process is up.
#[utoipa::path(tag = "health", operation_id = "live", responses((status = 200, description = "Alive", body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into(), database: None })
}

/// The server can serve: the database answers.
#[utoipa::path(
    tag = "health",
    operation_id = "ready",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let backend = state.db.backend();
    web::block(move || state.db.ping()).await?.map_err(|e| ApiError::Unavailable(format!("database: {e}")))?;
    let name = match backend {
        persistence::Backend::Sqlite => "sqlite",
        persistence::Backend::Postgres => "postgres",
    };
    Ok(HttpResponse::Ok().json(Health { status: "ok".into(), database: Some(name.into()) }))
}
