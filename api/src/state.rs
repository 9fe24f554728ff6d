//! What every request handler shares.
//!
//! The law's data (the catalog of passports and the business calendar) is what the database holds:
//! the shipped data with every administrator's change replayed over it. Each instance keeps the
//! version it loaded and watches the database's generation of it ([`persistence::law`]), so a change
//! made through any instance takes effect on every other within [`LAW_POLL_INTERVAL`].

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use domain::calendar::BusinessCalendar;
use domain::catalog::Catalog;
use domain::clock::Clock;
use persistence::law::Law;
use persistence::{Database, DbConnection, StoreError};

use crate::auth::Authenticator;

/// How often an instance asks the database whether the law's data changed.
pub const LAW_POLL_INTERVAL: Duration = Duration::from_millis(400);

/// How often an instance folds the pending monitoring count changes into the totals
/// (`persistence::monitoring::fold`). Readers sum both, so this bounds only how many changes a read
/// adds up, never what it sees.
pub const MONITORING_FOLD_INTERVAL: Duration = Duration::from_secs(1);

/// The most count changes of each kind one fold takes (one transaction).
const MONITORING_FOLD_BATCH: i64 = 20_000;

/// How often an instance prunes delivered deliveries past their retention, and how many at a time.
const DELIVERY_PRUNE_INTERVAL: Duration = Duration::from_secs(60);
const DELIVERY_PRUNE_BATCH: i64 = 1_000;

/// The law's data an instance serves, as one consistent snapshot.
pub struct InForce {
    pub generation: i64,
    pub catalog: Arc<Catalog>,
    pub calendar: Arc<BusinessCalendar>,
}

pub struct AppState {
    pub db: Database,
    law: RwLock<Arc<InForce>>,
    /// What ships with the binary, replayed over on every reload.
    shipped_catalog: Catalog,
    shipped_calendar: BusinessCalendar,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub max_body_bytes: usize,
    /// Signs result documents (`crate::documents::issue`).
    pub signer: crate::documents::Signer,
    /// `MAX_UPLOAD_BYTES`: the largest attachment accepted.
    pub max_upload_bytes: usize,
    /// The instance's own background threads (law watcher, monitoring fold), stopped and joined on
    /// shutdown ([`AppState::stop_background`]).
    background: Background,
}

#[derive(Default)]
struct Background {
    stopping: Arc<std::sync::atomic::AtomicBool>,
    threads: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// Sleeps `interval` in short steps; true when the instance is stopping.
fn sleep_unless_stopping(stopping: &std::sync::atomic::AtomicBool, interval: Duration) -> bool {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < interval {
        if stopping.load(std::sync::atomic::Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(step.min(interval - slept));
        slept += step;
    }
    stopping.load(std::sync::atomic::Ordering::Relaxed)
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Database,
        shipped_catalog: Catalog,
        shipped_calendar: BusinessCalendar,
        law: Law,
        clock: Arc<dyn Clock>,
        auth: Authenticator,
        max_body_bytes: usize,
        signer: crate::documents::Signer,
        max_upload_bytes: usize,
    ) -> Self {
        AppState {
            db,
            law: RwLock::new(Arc::new(InForce {
                generation: law.generation,
                catalog: Arc::new(law.catalog),
                calendar: Arc::new(law.calendar),
            })),
            shipped_catalog,
            shipped_calendar,
            clock,
            auth,
            max_body_bytes,
            signer,
            max_upload_bytes,
            background: Background::default(),
        }
    }

    /// Stops this instance's background threads and waits for them, so that none is in a query when
    /// the process exits (libpq's TLS is torn down at exit under a thread still using it).
    pub fn stop_background(&self) {
        self.background.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
        let threads = std::mem::take(&mut *self.background.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }

    /// Runs `step` (at most `batch` rows, one transaction each time) until a step does less than a full
    /// batch: a full one means more are waiting. A failure is logged and left for the next tick.
    fn in_batches(
        &self,
        batch: i64,
        what: &str,
        step: impl Fn(&mut persistence::DbConnection, i64) -> Result<usize, StoreError>,
    ) {
        loop {
            match self.db.write(|c| step(c, batch)) {
                Ok(n) if n >= batch as usize => continue,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not {what}");
                    return;
                }
            }
        }
    }

    /// Starts a background thread of this instance that runs `tick` every `interval` for as long as the
    /// state lives and the instance is not stopping.
    pub(crate) fn every(
        state: &Weak<AppState>,
        name: &str,
        interval: Duration,
        tick: impl Fn(&AppState) + Send + 'static,
    ) -> std::io::Result<()> {
        let Some(strong) = state.upgrade() else { return Ok(()) };
        let stopping = strong.background.stopping.clone();
        let weak = state.clone();
        let handle = std::thread::Builder::new().name(name.into()).spawn(move || loop {
            if sleep_unless_stopping(&stopping, interval) {
                return;
            }
            let Some(state) = weak.upgrade() else { return };
            tick(&state);
        })?;
        strong.background.threads.lock().unwrap_or_else(|p| p.into_inner()).push(handle);
        Ok(())
    }

    /// The law's data served now (the snapshot the watcher keeps up to date).
    pub fn in_force(&self) -> Arc<InForce> {
        self.law.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The calendar as shipped, before any administrator's change.
    pub fn shipped_calendar(&self) -> &BusinessCalendar {
        &self.shipped_calendar
    }

    pub fn calendar(&self) -> Arc<BusinessCalendar> {
        self.in_force().calendar.clone()
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.in_force().catalog.clone()
    }

    /// The generation of the law's data this instance serves.
    pub fn generation(&self) -> i64 {
        self.in_force().generation
    }

    /// Today's date in Kazakhstan by the injectable clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.calendar().to_local(self.clock.now()).date()
    }

    /// The law's data as the database holds it now, on `conn` (inside an administrator's change, after
    /// [`persistence::law::begin_change`], it is what the change builds on).
    pub fn load_law(&self, conn: &mut DbConnection) -> Result<Law, StoreError> {
        persistence::law::load(conn, &self.shipped_catalog, &self.shipped_calendar)
    }

    /// The law in force for a write that depends on it (a due date, a cut-off), on `conn` first thing in
    /// the write's transaction: the generation is pinned until commit ([`persistence::law::pin`]), and
    /// when another instance changed the law since this one last looked (the watcher polls every
    /// [`LAW_POLL_INTERVAL`]), the new law is loaded here and served from now on. So a filing that
    /// commits after a calendar change never carries a due date from the calendar it replaced.
    pub fn law_for_write(&self, conn: &mut DbConnection) -> Result<Arc<InForce>, StoreError> {
        let generation = persistence::law::pin(conn)?;
        let served = self.in_force();
        if generation == served.generation {
            return Ok(served);
        }
        let law = self.load_law(conn)?;
        Ok(self.install(law))
    }

    /// Serves `law` from now on, unless a newer generation is already served; returns what is served.
    pub fn install(&self, law: Law) -> Arc<InForce> {
        let mut current = self.law.write().unwrap_or_else(|p| p.into_inner());
        if law.generation >= current.generation {
            *current = Arc::new(InForce {
                generation: law.generation,
                catalog: Arc::new(law.catalog),
                calendar: Arc::new(law.calendar),
            });
        }
        current.clone()
    }

    /// Reloads the law's data when the database's generation moved past the one served (blocking).
    pub fn refresh(&self) -> Result<bool, StoreError> {
        let generation = self.db.read(persistence::law::generation)?;
        if generation == self.generation() {
            return Ok(false);
        }
        let law = self.db.read(|c| self.load_law(c))?;
        tracing::info!(from = self.generation(), to = law.generation, "the law's data changed: reloaded");
        self.install(law);
        Ok(true)
    }

    /// Watches the database's generation of the law's data on a thread of its own, for as long as the
    /// state lives.
    pub fn watch_law(state: Weak<AppState>) {
        let spawned = AppState::every(&state, "law-watch", LAW_POLL_INTERVAL, |state| {
            if let Err(e) = state.refresh() {
                tracing::warn!(error = %e, "could not check the law's data for changes");
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot watch the law's data: changes through other instances wait for a restart");
        }
    }

    /// Folds the monitoring counts on a thread of its own, for as long as the state lives. Every
    /// instance runs one; they take turns through the database.
    pub fn fold_monitoring_counts(state: Weak<AppState>) {
        let spawned = AppState::every(&state, "monitoring-fold", MONITORING_FOLD_INTERVAL, |state| {
            state.in_batches(MONITORING_FOLD_BATCH, "fold the monitoring counts", |c, batch| {
                persistence::monitoring::fold(c, batch)
            });
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot fold the monitoring counts: the view reads ever more pending changes");
        }
    }

    /// Prunes the deliveries done with for longer than `retention_days` on a thread of its own, once
    /// a minute, in batches (`persistence::outbox::prune`), so that the table grows with what is
    /// pending and dead, not with every event ever sent.
    pub fn prune_deliveries(state: Weak<AppState>, retention_days: u64) {
        let spawned = AppState::every(&state, "deliveries-prune", DELIVERY_PRUNE_INTERVAL, move |state| {
            let before = (state.clock.now() - chrono::Duration::days(retention_days as i64)).naive_utc();
            state.in_batches(DELIVERY_PRUNE_BATCH, "prune delivered deliveries", |c, batch| {
                persistence::outbox::prune(c, before, batch)
            });
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot prune delivered deliveries: they are kept");
        }
    }
}
