//! The HTTP API of the state-services backend.
//!
//! Start-up is a library function ([`start`]) so that the end-to-end tests run the very same server
//! on a random port with a pinned clock.

pub mod auth;
pub mod config;
pub mod documents;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
pub mod schema;
pub mod state;
pub mod yaml;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use domain::catalog::Catalog;
use domain::clock::Clock;
use persistence::Database;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Authenticator;
use crate::config::Settings;
use crate::routes::RouteTable;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the service catalog is invalid:\n{0}")]
    Catalog(#[from] domain::catalog::CatalogErrors),
    #[error(transparent)]
    Database(#[from] persistence::StoreError),
    #[error("a published passport version no longer loads: {0}")]
    Published(String),
    #[error("authentication keys: {0}")]
    Keys(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("a recorded calendar change no longer loads: {0}")]
    Calendar(String),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A started server: its port and the future that runs it.
pub struct Running {
    pub port: u16,
    pub server: actix_web::dev::Server,
    pub state: web::Data<AppState>,
}

/// Connects to the database (applying migrations), loads and validates the catalog, and starts
/// serving on `listener`.
pub fn start(settings: &Settings, listener: TcpListener, clock: Arc<dyn Clock>) -> Result<Running, StartupError> {
    let db = Database::connect(&settings.database_url, settings.pool_size)?;
    let catalog = routes::services::with_published_versions(&db, Catalog::embedded()?)?;
    let auth = Authenticator::new(&settings.jwt).map_err(StartupError::Keys)?;
    if !auth.has_keys() {
        tracing::warn!("no JWT verification key configured: every authenticated endpoint will answer 401");
    }
    let port = listener.local_addr()?.port();
    // Administrators' calendar changes (new decrees) replayed over the shipped calendar.
    let calendar =
        routes::calendar::with_calendar_changes(&db, domain::calendar::BusinessCalendar::kazakhstan().clone())?;
    // Read here rather than carried in `Settings`, so callers building `Settings` by hand keep working.
    let documents = config::DocumentSettings::from_env().map_err(|e| StartupError::Config(e.0))?;
    let signer = documents::Signer::configured_or_stored(documents.signing_key_seed, &db, clock.now())
        .map_err(StartupError::Keys)?;
    let state = web::Data::new(AppState::new(
        db,
        catalog,
        calendar,
        clock,
        auth,
        settings.max_body_bytes,
        signer,
        documents.max_upload_bytes,
    ));
    let spec = openapi::spec();
    let routes = web::Data::new(RouteTable::from_spec(&spec));
    let spec_doc =
        web::Data::new(routes::docs::SpecDocument(serde_json::to_value(&spec).expect("the spec serialises")));
    let max_body = settings.max_body_bytes;
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        let app = App::new()
            .into_utoipa_app()
            .app_data(app_state.clone())
            .app_data(routes.clone())
            .app_data(spec_doc.clone())
            .app_data(web::PayloadConfig::new(max_body + 1))
            .configure(routes::register)
            .into_app();
        app.wrap(TracingLogger::default())
            .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")))
            .default_service(web::to(routes::fallback))
    })
    .listen(listener)?
    .run();
    Ok(Running { port, server, state })
}

/// Sets up structured logging (JSON lines by default).
pub fn init_tracing(filter: &str, json: bool) {
    use tracing_subscriber::{fmt, EnvFilter};
    let builder = fmt().with_env_filter(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info")));
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
