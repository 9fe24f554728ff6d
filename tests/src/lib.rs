//! The end-to-end harness: starts the real server (the same `api::start` the binary runs) on a random
//! port, against a throwaway database, with the clock pinned to an exact moment.
//!
//! Every scenario runs on SQLite and on PostgreSQL. PostgreSQL is the server `TEST_DATABASE_URL` names,
//! or, when that is unset, a local one at `postgres://postgres@127.0.0.1:5432/postgres` if it answers;
//! each test gets its own database there, dropped afterwards. When no PostgreSQL is reachable (or
//! `TEST_DATABASE_URL=none`), the PostgreSQL variants say so on stderr and pass as skipped.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Once};

use api::auth::{mint_hs256, Role};
use api::config::{GuardSettings, JwtSettings, Settings};
use chrono::{DateTime, TimeZone, Utc};
use diesel::{Connection, RunQueryDsl};
use domain::clock::FixedClock;
use serde_json::Value;

pub const SECRET: &str = "e2e-test-secret-0123456789abcdef";

/// The lifetime of the harness's tokens, and the longest its servers accept (`JWT_MAX_LIFETIME_SECS`).
pub const TOKEN_TTL_SECS: i64 = 60 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the throwaway database lives; dropped with the app.
enum TestDb {
    Sqlite(#[allow(dead_code)] TempDir),
    Postgres { admin_url: String, name: String },
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            if let Ok(mut c) = diesel::PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c);
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<FixedClock>,
    pub backend: Backend,
    database_url: String,
    /// Stops the HTTP server ([`TestApp::kill`]).
    server: actix_web::dev::ServerHandle,
    /// The instance's delivery worker.
    pub outbox: Arc<api::outbox::Worker>,
    _db: Option<TestDb>,
}

/// Monday 23 November 2026, 10:00 in Astana (UTC+5): inside working hours.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 5, 0, 0).unwrap()
}

/// The local server, without TLS: on loopback it protects nothing, and libpq's OpenSSL cleans up at
/// process exit while the instances' background threads (the law watcher, the monitoring fold) may
/// still be mid-query, which can crash a test binary after its tests passed.
const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

/// The PostgreSQL server to make throwaway databases on, if any.
fn postgres_admin_url() -> Option<String> {
    use std::sync::OnceLock;
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(v) if v == "none" => None,
        // Named explicitly: it must work, so a broken server fails loudly instead of skipping.
        Ok(v) => Some(v),
        Err(_) => {
            let reachable = std::net::TcpStream::connect_timeout(
                &"127.0.0.1:5432".parse().unwrap(),
                std::time::Duration::from_millis(500),
            )
            .is_ok()
                && diesel::PgConnection::establish(LOCAL_POSTGRES).is_ok();
            reachable.then(|| LOCAL_POSTGRES.to_string())
        }
    })
    .clone()
}

/// A fresh, empty PostgreSQL database (its URL), dropped with the guard; `None` when no PostgreSQL is
/// reachable here.
pub fn throwaway_postgres() -> Option<(String, impl Drop)> {
    let Some(admin_url) = postgres_admin_url() else {
        skip_notice();
        return None;
    };
    let name = format!("e2e_{}", uuid::Uuid::new_v4().simple());
    let mut c = diesel::PgConnection::establish(&admin_url)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL does not answer: {e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c).unwrap();
    let url = replace_db_name(&admin_url, &name);
    Some((url, TestDb::Postgres { admin_url, name }))
}

fn skip_notice() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Written past the test harness's output capture, so the skip is seen, never silent.
        let _ = writeln!(
            std::io::stderr(),
            "\nNOTE: no PostgreSQL reachable (TEST_DATABASE_URL unset or `none`, and none at 127.0.0.1:5432): \
             the PostgreSQL end-to-end variants are SKIPPED. Set TEST_DATABASE_URL=postgres://... to run them.\n"
        );
    });
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

impl TestApp {
    /// Starts a server on `backend`; `None` when that backend is not available here (PostgreSQL
    /// without `TEST_DATABASE_URL`).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_at(backend, monday_morning()).await
    }

    pub async fn spawn_at(backend: Backend, now: DateTime<Utc>) -> Option<TestApp> {
        Self::spawn_with(backend, now, |_| {}).await
    }

    /// [`TestApp::spawn_at`] with the settings changed by `tweak` (limits, token lifetime, CORS).
    pub async fn spawn_with(backend: Backend, now: DateTime<Utc>, tweak: impl Fn(&mut Settings)) -> Option<TestApp> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (db, url) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("kz-e2e-{id}"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = dir.join("app.db").to_string_lossy().to_string();
                (TestDb::Sqlite(TempDir(dir)), url)
            }
            Backend::Postgres => {
                let Some(admin_url) = postgres_admin_url() else {
                    skip_notice();
                    return None;
                };
                let name = format!("e2e_{id}");
                let mut c = diesel::PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL does not answer: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c).unwrap();
                let url = replace_db_name(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
        };
        let mut app = Self::serve(&url, backend, now, &tweak);
        app._db = Some(db);
        Some(app)
    }

    /// A second server on the same database, as after a restart: what it serves must come from the
    /// database, not from the first server's memory. The first app keeps owning the database.
    pub fn restarted(&self) -> TestApp {
        self.restarted_with(|_| {})
    }

    /// [`TestApp::restarted`] with the settings changed by `tweak`.
    pub fn restarted_with(&self, tweak: impl Fn(&mut Settings)) -> TestApp {
        use domain::clock::Clock;
        Self::serve(&self.database_url, self.backend, self.clock.now(), &tweak)
    }

    /// Ends this instance as a crash would: its delivery worker stops at once, abandoning what it was
    /// sending, and its server stops answering.
    pub async fn kill(&self) {
        let outbox = self.outbox.clone();
        tokio::task::spawn_blocking(move || outbox.kill()).await.unwrap();
        self.server.stop(false).await;
    }

    fn serve(url: &str, backend: Backend, now: DateTime<Utc>, tweak: &dyn Fn(&mut Settings)) -> TestApp {
        let mut settings = Settings {
            database_url: url.to_string(),
            bind: "127.0.0.1:0".parse().unwrap(),
            pool_size: 4,
            durable_journal: false,
            fold_monitoring_counts: true,
            resume_recomputes: true,
            max_body_bytes: 64 * 1024,
            // Scenarios mint one token and move the pinned clock forward by weeks.
            jwt: JwtSettings {
                hs256_secret: Some(SECRET.into()),
                max_lifetime_secs: TOKEN_TTL_SECS,
                ..Default::default()
            },
            log_filter: "warn".into(),
            log_json: false,
            guard: GuardSettings::default(),
            // The test receivers listen on this host: loopback is allowed here, as an operator would
            // allow an internal network (the default refuses it).
            delivery: api::config::DeliverySettings {
                allowed_networks: domain::delivery::AddressPolicy::parse("127.0.0.0/8,::1").expect("networks parse"),
                ..Default::default()
            },
        };
        tweak(&mut settings);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let clock = Arc::new(FixedClock::new(now));
        let running = api::start(&settings, listener, clock.clone()).expect("server starts");
        let port = running.port;
        let server = running.server.handle();
        tokio::spawn(running.server);
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            clock,
            backend,
            database_url: url.to_string(),
            server,
            outbox: Arc::new(running.outbox),
            _db: None,
        }
    }

    /// A connection pool of its own to the app's database, for what a test sets up or inspects below
    /// the API.
    pub fn database(&self) -> persistence::Database {
        persistence::Database::connect(&self.database_url, 1).expect("the database answers")
    }

    /// Adds an organisation to the database, as operations would by hand.
    pub fn add_organization(&self, id: &str, kind: &str) {
        let db = self.database();
        let row = persistence::organizations::OrganizationRow {
            id: id.into(),
            kind: kind.into(),
            region: None,
            name_kk: id.into(),
            name_ru: id.into(),
            name_en: id.into(),
        };
        db.write(|c| persistence::organizations::insert(c, &row)).expect("the organisation is added");
    }

    /// Enrols `sub` in `org`'s staff directory in `role` (through the API, as an administrator), as
    /// assigning an application to them requires.
    pub async fn enrol(&self, org: &str, sub: &str, role: Role) {
        let admin = self.token(Role::Admin, "admin-1", None);
        let res = self
            .client
            .put(self.url(&format!("/api/v1/organizations/{org}/staff/{sub}")))
            .bearer_auth(admin)
            .json(&serde_json::json!({"role": role.code(), "full_name": format!("Staff member {sub}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "enrolling {sub} at {org}: {}", res.text().await.unwrap_or_default());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn token(&self, role: Role, sub: &str, org: Option<&str>) -> String {
        // Long-lived: scenarios move the pinned clock forward by days.
        mint_hs256(SECRET, sub, role, org, TOKEN_TTL_SECS, self.clock_now().timestamp())
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use domain::clock::Clock;
        self.clock.now()
    }

    /// A service account's token (`role` `system`, `sub` the client id) with `scopes`.
    pub fn service_account(&self, client_id: &str, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        api::auth::mint_service_token(SECRET, client_id, &scopes, TOKEN_TTL_SECS, self.clock_now().timestamp())
    }

    pub fn applicant(&self, iin: &str) -> String {
        self.token(Role::Applicant, iin, None)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut r = self.client.get(self.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let res = r.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value, idem: Option<&str>) -> (u16, Value) {
        let mut r = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(k) = idem {
            r = r.header("Idempotency-Key", k);
        }
        let res = r.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
    }
}

/// Defines a scenario once and runs it as two tests, `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! e2e {
    ($name:ident, |$app:ident| $body:block) => {
        $crate::e2e_with!($name, |_| {}, |$app| $body);
    };
}

/// [`e2e!`] on a server whose settings `$tweak` changed first (a background task switched off, a
/// limit lowered).
#[macro_export]
macro_rules! e2e_with {
    ($name:ident, $tweak:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($app: $crate::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::TestApp::spawn_with($crate::Backend::Sqlite, $crate::monday_morning(), $tweak).await;
                scenario(app.expect("sqlite is always available")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::TestApp::spawn_with($crate::Backend::Postgres, $crate::monday_morning(), $tweak).await
                {
                    scenario(app).await;
                }
            }
        }
    };
}

/// A valid form for the version of `service_key` in force on `on`, filed for `applicant_iin`: the
/// passport's own example (`domain::form::example`) with the applicant's IIN filled in.
pub fn form_for(service_key: &str, on: chrono::NaiveDate, applicant_iin: &str) -> Value {
    let catalog = domain::catalog::Catalog::builtin();
    let passport = catalog.service(service_key).and_then(|s| s.in_force(on)).expect("service in force");
    let mut form = domain::form::example(&passport.form);
    if let Some(applicant) = form.get_mut("applicant").and_then(|a| a.as_object_mut()) {
        if applicant.contains_key("iin") {
            applicant.insert("iin".into(), Value::String(applicant_iin.into()));
        }
    }
    form
}
