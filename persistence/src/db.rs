//! One connection type for both backends (diesel `MultiConnection`), an r2d2 pool, migrations applied
//! at start, and the transaction helpers every write goes through.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A connection to either backend; every query in this crate is written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// SQLite needs per-connection settings: foreign keys are off by default, WAL lets readers run beside
/// the writer, and a busy timeout makes a second writer wait instead of failing.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

pub type PooledConn = PooledConnection<ConnectionManager<DbConnection>>;

/// Session settings of the server's PostgreSQL connections.
///
/// - `jit = off`: this is an OLTP workload; the LLVM JIT compiled a large statement for tens of ms
///   before running it in a few (`bench/RESULTS.md`, item 7), and a monitoring aggregate over a large
///   provider crosses `jit_above_cost`.
/// - `synchronous_commit = off` on the read pool: the only rows a read writes are its access-journal
///   entries, and waiting for their WAL flush made every read as slow as a durable write (one fsync
///   per read; item 1). A crash of the server loses nothing (the row is committed before the answer);
///   a crash of PostgreSQL itself may lose the journal rows of the last `3 x wal_writer_delay` (600 ms
///   by default). [`DbOptions::durable_journal`] restores the flush.
#[derive(Debug, Clone, Copy)]
struct PgSession {
    async_commit: bool,
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for PgSession {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        let sql = if self.async_commit { "SET jit = off; SET synchronous_commit = off" } else { "SET jit = off" };
        conn.batch_execute(sql).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// How the server uses the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbOptions {
    /// Connections per pool (`DB_POOL_SIZE`); on PostgreSQL an instance keeps two pools, writes and
    /// reads, so up to twice this many connections.
    pub pool_size: u32,
    /// Wait for the WAL flush of every access-journal entry before answering a read
    /// (`ACCESS_LOG_DURABLE`); off by default, see [`PgSession`].
    pub durable_journal: bool,
}

impl DbOptions {
    pub fn pool(pool_size: u32) -> DbOptions {
        DbOptions { pool_size, durable_journal: false }
    }
}

/// The database: a pool plus, for SQLite, a lock that lets one write transaction run at a time.
///
/// SQLite allows one writer; a deferred transaction that reads first and then writes can fail with
/// SQLITE_BUSY when another writer got in between, whatever the busy timeout. Serialising write
/// transactions in the process removes that failure; PostgreSQL needs no such lock.
#[derive(Clone)]
pub struct Database {
    pool: Pool<ConnectionManager<DbConnection>>,
    /// PostgreSQL: the pool of [`Database::read`], whose sessions commit asynchronously
    /// ([`PgSession`]); `None` means reads share `pool` (SQLite, or a durable journal).
    reads: Option<Pool<ConnectionManager<DbConnection>>>,
    backend: Backend,
    write_lock: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("backend", &self.backend).finish()
    }
}

/// The key of the PostgreSQL advisory lock that serialises migrations across instances (any number of
/// servers may start at once on one database: the first migrates, the others wait and find nothing to
/// do). An arbitrary constant: "kz-fam" in ASCII.
pub const MIGRATION_LOCK_KEY: i64 = 0x6b7a_2d66_616d;

/// Applies pending PostgreSQL migrations on a connection of their own, holding the session-level
/// advisory lock [`MIGRATION_LOCK_KEY`] throughout. The connection is closed at the end, which releases
/// the lock whatever happened.
fn migrate_postgres(url: &str) -> Result<(), StoreError> {
    let mut c =
        PgConnection::establish(url).map_err(|e| StoreError::Setup(format!("cannot connect to the database: {e}")))?;
    c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .map_err(|e| StoreError::Setup(format!("cannot take the migration lock: {e}")))?;
    let applied = c
        .run_pending_migrations(POSTGRES_MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| StoreError::Setup(format!("migration failed: {e}")));
    let _ = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
    let applied = applied?;
    tracing::info!(applied, backend = ?Backend::Postgres, "database migrations applied");
    Ok(())
}

impl Database {
    /// Connects, creating the SQLite file (and its folder) when needed, and applies pending migrations.
    pub fn connect(url: &str, pool_size: u32) -> Result<Database, StoreError> {
        Database::connect_with(url, DbOptions::pool(pool_size))
    }

    /// [`Database::connect`] with every option.
    pub fn connect_with(url: &str, options: DbOptions) -> Result<Database, StoreError> {
        let pool_size = options.pool_size;
        let backend = Backend::of_url(url);
        let url = match backend {
            Backend::Sqlite => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                if path != ":memory:" {
                    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)
                            .map_err(|e| StoreError::Setup(format!("cannot create {}: {e}", dir.display())))?;
                    }
                }
                path.to_string()
            }
            Backend::Postgres => url.to_string(),
        };
        // No `SELECT 1` on every check-out (r2d2's default): it was a round trip per request, and a
        // broken connection still fails its query and is discarded by `has_broken`.
        let builder = || {
            Pool::builder()
                .max_size(pool_size.max(1))
                .connection_timeout(Duration::from_secs(10))
                .test_on_check_out(false)
        };
        let setup = |e: r2d2::Error| StoreError::Setup(format!("cannot connect to the database: {e}"));
        let manager = || ConnectionManager::<DbConnection>::new(url.clone());
        let (pool, reads) = match backend {
            Backend::Sqlite => {
                (builder().connection_customizer(Box::new(SqlitePragmas)).build(manager()).map_err(setup)?, None)
            }
            Backend::Postgres => {
                let session = |async_commit| Box::new(PgSession { async_commit });
                let pool = builder().connection_customizer(session(false)).build(manager()).map_err(setup)?;
                let reads = if options.durable_journal {
                    None
                } else {
                    Some(builder().connection_customizer(session(true)).build(manager()).map_err(setup)?)
                };
                (pool, reads)
            }
        };
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let db = Database { pool, reads, backend, write_lock };
        match backend {
            Backend::Postgres => migrate_postgres(&url)?,
            Backend::Sqlite => db.migrate()?,
        }
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        }
        .map_err(|e| StoreError::Setup(format!("migration failed: {e}")))?;
        tracing::info!(applied, backend = ?self.backend, "database migrations applied");
        Ok(())
    }

    fn conn(&self) -> Result<PooledConn, StoreError> {
        self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Answers whether the database is reachable (readiness).
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    /// Runs reads on one connection, outside a transaction. The only writes allowed here are the
    /// reads' own access-journal entries (on PostgreSQL they commit asynchronously, [`PgSession`]);
    /// every other write goes through [`Database::write`].
    pub fn read<T>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = match &self.reads {
            Some(reads) => reads.get().map_err(|e| StoreError::Unavailable(e.to_string()))?,
            None => self.conn()?,
        };
        f(&mut conn)
    }

    /// Runs reads that must agree with each other (a view of several figures) in one read-only
    /// snapshot: on PostgreSQL `REPEATABLE READ, READ ONLY`, so every statement sees the same
    /// committed state; on SQLite one read transaction, which is a snapshot already.
    pub fn read_snapshot<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.read(|conn| {
            diesel::Connection::transaction(conn, |c| {
                if matches!(c, DbConnection::Postgresql(_)) {
                    c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
                }
                f(c)
            })
        })
    }

    /// Runs `f` in one transaction: everything it writes (the change, its history entry, its event)
    /// commits together or not at all.
    pub fn write<T>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.write_with(f)
    }

    /// [`Database::write`] with the caller's own error type (e.g. the API's): any error `f` returns
    /// rolls the whole transaction back, also a rule violation found after the first write.
    pub fn write_with<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut conn = self.conn()?;
        let _guard = self.write_lock.as_ref().map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
        let conn: &mut DbConnection = &mut conn;
        conn.transaction(f)
    }
}
