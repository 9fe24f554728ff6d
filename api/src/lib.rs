//! The HTTP API of the state-services backend.
//!
//! Start-up is a library function ([`start`]) so that the end-to-end tests run the very same server
//! on a random port with a pinned clock.

pub mod access;
pub mod auth;
pub mod config;
pub mod documents;
pub mod error;
pub mod extract;
pub mod guard;
pub mod idempotency;
pub mod openapi;
pub mod outbox;
pub mod procedure;
pub mod queue;
pub mod recompute;
pub mod routes;
pub mod schema;
pub mod state;
pub mod views;
pub mod yaml;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpServer};
use domain::catalog::Catalog;
use domain::clock::Clock;
use persistence::Database;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{Authenticator, OrgDirectory};
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
    /// The delivery worker of this instance: stop it when the server stops.
    pub outbox: outbox::Worker,
}

/// Connects to the database (applying migrations), loads and validates the catalog, and starts
/// serving on `listener`.
pub fn start(settings: &Settings, listener: TcpListener, clock: Arc<dyn Clock>) -> Result<Running, StartupError> {
    let options = persistence::DbOptions { pool_size: settings.pool_size, durable_journal: settings.durable_journal };
    let db = Database::connect_with(&settings.database_url, options)?;
    // The law's data: the shipped catalog and calendar with administrators' changes (published
    // passport versions, new decrees) replayed over them, as the database holds them.
    let shipped_catalog = Catalog::embedded()?;
    let shipped_calendar = domain::calendar::BusinessCalendar::kazakhstan().clone();
    let law = db
        .read(|c| persistence::law::load(c, &shipped_catalog, &shipped_calendar))
        .map_err(|e| StartupError::Published(e.to_string()))?;
    // Registration numbers of this year and the next come from sequences created now, so no filing
    // has to create one (issue 11); a failure here only moves that work to the first filing.
    let year = chrono::Datelike::year(&shipped_calendar.to_local(clock.now()).date());
    for y in [year, year + 1] {
        // One transaction per year: a year that cannot be prepared does not undo the other.
        if let Err(e) = db.write(|c| persistence::sequences::prepare_registration_years(c, &[y])) {
            tracing::warn!(error = %e, year = y, "cannot prepare the registration sequence; the first filing of the year creates it");
        }
    }
    let auth = Authenticator::new(&settings.jwt).map_err(StartupError::Keys)?;
    if !auth.has_keys() {
        tracing::warn!("no JWT verification key configured: every authenticated endpoint will answer 401");
    }
    let port = listener.local_addr()?.port();
    // Read here rather than carried in `Settings`, so callers building `Settings` by hand keep working.
    let documents = config::DocumentSettings::from_env().map_err(|e| StartupError::Config(e.0))?;
    let signer = documents::Signer::configured_or_stored(documents.signing_key_seed, &db, clock.now())
        .map_err(StartupError::Keys)?;
    let state = web::Data::new(AppState::new(
        db,
        shipped_catalog,
        shipped_calendar,
        law,
        clock,
        auth,
        settings.max_body_bytes,
        signer,
        documents.max_upload_bytes,
    ));
    // Changes made through other instances take effect here within a poll interval.
    AppState::watch_law(std::sync::Arc::downgrade(&state.clone().into_inner()));
    AppState::prune_deliveries(
        std::sync::Arc::downgrade(&state.clone().into_inner()),
        settings.delivery.retention_days,
    );
    if settings.resume_recomputes {
        AppState::resume_recomputes(std::sync::Arc::downgrade(&state.clone().into_inner()), recompute::RESUME_INTERVAL);
    }
    if settings.fold_monitoring_counts {
        AppState::fold_monitoring_counts(std::sync::Arc::downgrade(&state.clone().into_inner()));
    }
    let delivery = &settings.delivery;
    let outbox = if delivery.enabled {
        let host = match settings.bind.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_string(),
            ip => ip.to_string(),
        };
        let base = delivery.public_base_url.clone().unwrap_or_else(|| format!("http://{host}:{port}"));
        outbox::Worker::start(
            std::sync::Arc::downgrade(&state.clone().into_inner()),
            delivery.clone(),
            format!("{base}/api/v1"),
        )
    } else {
        outbox::Worker::disabled()
    };
    let outbox_cfg = web::Data::new(outbox::Config {
        nats: delivery.nats_url.is_some(),
        addresses: delivery.allowed_networks.clone(),
    });
    let spec = openapi::spec();
    let routes = web::Data::new(RouteTable::from_spec(&spec));
    let spec_doc =
        web::Data::new(routes::docs::SpecDocument(serde_json::to_value(&spec).expect("the spec serialises")));
    let orgs = web::Data::new(OrgDirectory::load(&state.db)?);
    let guard_cfg = settings.guard.clone();
    let guard = web::Data::new(guard::Guard::new(&guard_cfg));
    let max_body = settings.max_body_bytes;
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        let app = App::new()
            .into_utoipa_app()
            .app_data(app_state.clone())
            .app_data(routes.clone())
            .app_data(spec_doc.clone())
            .app_data(orgs.clone())
            .app_data(guard.clone())
            .app_data(outbox_cfg.clone())
            .app_data(web::PayloadConfig::new(max_body + 1))
            .configure(routes::register)
            .into_app();
        // Outermost last: `outer` sees every answer, CORS headers reach even a 429.
        app.service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")))
            .default_service(web::to(routes::fallback))
            .wrap(from_fn(guard::inner))
            .wrap(Condition::new(!guard_cfg.cors_allowed_origins.is_empty(), cors(&guard_cfg.cors_allowed_origins)))
            .wrap(from_fn(guard::outer))
    })
    .client_request_timeout(std::time::Duration::from_secs(settings.guard.head_timeout_secs))
    .client_disconnect_timeout(std::time::Duration::from_secs(2))
    .listen(listener)?
    .run();
    Ok(Running { port, server, state, outbox })
}

/// CORS for the browser front ends at `origins` (none: no cross-origin access at all).
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::{header, Method};
    let mut cors = actix_cors::Cors::default()
        .allowed_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static(guard::REQUEST_ID),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            header::HeaderName::from_static(guard::REQUEST_ID),
        ])
        .max_age(600)
        // Another origin's request is answered without CORS headers (the browser withholds it), not refused.
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Sets up structured logging (JSON lines by default).
pub fn init_tracing(filter: &str, json: bool) {
    use tracing_subscriber::{fmt, EnvFilter};
    let builder = fmt().with_env_filter(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info")));
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
