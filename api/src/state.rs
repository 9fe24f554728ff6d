//! What every request handler shares.

use std::sync::{Arc, RwLock};

use domain::calendar::BusinessCalendar;
use domain::catalog::Catalog;
use domain::clock::Clock;
use persistence::Database;

use crate::auth::Authenticator;

pub struct AppState {
    pub db: Database,
    /// The catalog in force; replaced as a whole when an administrator publishes a version.
    catalog: RwLock<Arc<Catalog>>,
    /// The business calendar in force; replaced as a whole when an administrator changes a year.
    calendar: RwLock<Arc<BusinessCalendar>>,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub max_body_bytes: usize,
    /// Held while a passport version is published, so two publications never build on the same
    /// catalog and lose one another.
    pub publishing: std::sync::Mutex<()>,
    /// Signs result documents (`crate::documents::issue`).
    pub signer: crate::documents::Signer,
    /// `MAX_UPLOAD_BYTES`: the largest attachment accepted.
    pub max_upload_bytes: usize,
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Database,
        catalog: Catalog,
        calendar: BusinessCalendar,
        clock: Arc<dyn Clock>,
        auth: Authenticator,
        max_body_bytes: usize,
        signer: crate::documents::Signer,
        max_upload_bytes: usize,
    ) -> Self {
        AppState {
            db,
            catalog: RwLock::new(Arc::new(catalog)),
            calendar: RwLock::new(Arc::new(calendar)),
            clock,
            auth,
            max_body_bytes,
            publishing: std::sync::Mutex::new(()),
            signer,
            max_upload_bytes,
        }
    }

    pub fn calendar(&self) -> Arc<BusinessCalendar> {
        self.calendar.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn replace_calendar(&self, next: BusinessCalendar) {
        *self.calendar.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }

    /// Today's date in Kazakhstan by the injectable clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.calendar().to_local(self.clock.now()).date()
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn replace_catalog(&self, next: Catalog) {
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }
}
