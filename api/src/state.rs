//! What every request handler shares.

use std::sync::{Arc, RwLock};

use domain::catalog::Catalog;
use domain::clock::Clock;
use persistence::Database;

use crate::auth::Authenticator;

pub struct AppState {
    pub db: Database,
    /// The catalog in force; replaced as a whole when an administrator publishes a version.
    catalog: RwLock<Arc<Catalog>>,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub max_body_bytes: usize,
}

impl AppState {
    pub fn new(db: Database, catalog: Catalog, clock: Arc<dyn Clock>, auth: Authenticator, max_body_bytes: usize) -> Self {
        AppState { db, catalog: RwLock::new(Arc::new(catalog)), clock, auth, max_body_bytes }
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn replace_catalog(&self, next: Catalog) {
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }
}
