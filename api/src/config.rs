//! Configuration from environment variables (documented in README.md).

use std::net::SocketAddr;

/// Everything the server needs to start, read once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `postgres://...` for PostgreSQL, a file path (or `sqlite://path`) for SQLite.
    pub database_url: String,
    /// `APP_BIND`: address and port to listen on.
    pub bind: SocketAddr,
    /// `DB_POOL_SIZE`: connections per pool (on PostgreSQL two pools, writes and reads: up to twice
    /// this many connections per instance). Default 8.
    pub pool_size: u32,
    /// `ACCESS_LOG_DURABLE=true`: every read waits for its access-journal entry to be flushed to
    /// PostgreSQL's WAL before it is answered. Default false: the entry is committed before the answer,
    /// asynchronously (`persistence::db`, `PgSession`).
    pub durable_journal: bool,
    /// `MONITORING_FOLD=false`: this instance does not fold the monitoring count changes into their
    /// totals (another instance does, or a test folds them itself). Default true; reads are exact
    /// either way, only the pending changes a read sums grow.
    pub fold_monitoring_counts: bool,
    /// `RECOMPUTE_RESUME=false`: this instance does not take over calendar changes' recomputations
    /// cut off by a crash (`api::recompute`; another instance does, or the next change finishes
    /// them). Default true.
    pub resume_recomputes: bool,
    /// `MAX_BODY_BYTES`: the largest JSON body accepted (larger ones get 413).
    pub max_body_bytes: usize,
    pub jwt: JwtSettings,
    /// `RUST_LOG` (filter, e.g. `info,api=debug`).
    pub log_filter: String,
    /// `LOG_FORMAT`: `json` (default; one object per line, for log shippers) or `pretty`.
    pub log_json: bool,
    /// Transport limits: time-outs, rate limits, CORS.
    pub guard: GuardSettings,
    /// Telling subscribers about events: time-outs, retries, NATS.
    pub delivery: DeliverySettings,
}

/// Delivery of events to subscribers (issue 12).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// `DELIVERY_ENABLED`: whether this instance runs the delivery worker. Default true (every
    /// instance does; they share the work through the database).
    pub enabled: bool,
    /// `DELIVERY_POLL_MS`: how often the worker looks for due deliveries. Default 500.
    pub poll_interval_ms: u64,
    /// `DELIVERY_TIMEOUT_MS`: how long a receiver (or NATS) may take to answer one attempt. Default 10000.
    pub timeout_ms: u64,
    /// `DELIVERY_FIRST_RETRY_SECS`, `DELIVERY_RETRY_FACTOR`, `DELIVERY_MAX_RETRY_SECS`,
    /// `DELIVERY_RETRY_FOR_SECS`: the back-off (see domain::delivery::RetryPolicy). Defaults 5, 6,
    /// 21600 (6 h), 86400 (one day), then dead-lettered.
    pub retry: domain::delivery::RetryPolicy,
    /// `DELIVERY_BATCH`: the most deliveries one instance claims at once. Default 32.
    pub batch: i64,
    /// `NATS_URL`: the NATS server with JetStream (`nats://127.0.0.1:4222`); unset: NATS subscriptions
    /// are refused.
    pub nats_url: Option<String>,
    /// `PUBLIC_BASE_URL`: how subscribers reach this API (`https://services.example.kz`), for the links
    /// in messages. Default `http://<APP_BIND>`.
    pub public_base_url: Option<String>,
    /// `DELIVERY_ALLOWED_NETWORKS`: the private networks webhooks may go to besides public addresses,
    /// comma-separated CIDRs (`10.20.0.0/16,fd00::/8`; `127.0.0.0/8` for a receiver on this host).
    /// Default none: loopback, private, link-local and other special addresses are refused.
    pub allowed_networks: domain::delivery::AddressPolicy,
    /// `DELIVERY_RETENTION_DAYS`: how long a delivered (or cancelled) delivery and its attempt log are
    /// kept before they are pruned. Default 30. Dead letters are kept until replayed.
    pub retention_days: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            enabled: true,
            poll_interval_ms: 500,
            timeout_ms: 10_000,
            retry: domain::delivery::RetryPolicy::default(),
            batch: 32,
            nats_url: None,
            public_base_url: None,
            allowed_networks: domain::delivery::AddressPolicy::public_only(),
            retention_days: 30,
        }
    }
}

impl DeliverySettings {
    pub fn from_env() -> Result<DeliverySettings, ConfigError> {
        let d = DeliverySettings::default();
        let num = |name: &str, default: u64| -> Result<u64, ConfigError> {
            var(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ConfigError(format!("{name} must be a positive whole number, got `{v}`")))
            })
        };
        let secs = |name: &str, default: chrono::Duration| -> Result<chrono::Duration, ConfigError> {
            Ok(chrono::Duration::seconds(num(name, default.num_seconds() as u64)?.min(365 * 86400) as i64))
        };
        let public_base_url = var("PUBLIC_BASE_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &public_base_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(ConfigError(format!("PUBLIC_BASE_URL must be an http(s) URL, got `{u}`")));
            }
        }
        Ok(DeliverySettings {
            enabled: var("DELIVERY_ENABLED").is_none_or(|v| v != "false" && v != "0"),
            poll_interval_ms: num("DELIVERY_POLL_MS", d.poll_interval_ms)?,
            timeout_ms: num("DELIVERY_TIMEOUT_MS", d.timeout_ms)?,
            retry: domain::delivery::RetryPolicy {
                first_delay: secs("DELIVERY_FIRST_RETRY_SECS", d.retry.first_delay)?,
                factor: num("DELIVERY_RETRY_FACTOR", d.retry.factor as u64)?.min(100) as u32,
                max_delay: secs("DELIVERY_MAX_RETRY_SECS", d.retry.max_delay)?,
                give_up_after: secs("DELIVERY_RETRY_FOR_SECS", d.retry.give_up_after)?,
            },
            batch: num("DELIVERY_BATCH", d.batch as u64)?.min(1000) as i64,
            nats_url: var("NATS_URL"),
            public_base_url,
            allowed_networks: match var("DELIVERY_ALLOWED_NETWORKS") {
                Some(list) => domain::delivery::AddressPolicy::parse(&list)
                    .map_err(|e| ConfigError(format!("DELIVERY_ALLOWED_NETWORKS: {e}")))?,
                None => d.allowed_networks,
            },
            retention_days: num("DELIVERY_RETENTION_DAYS", d.retention_days)?.min(3650),
        })
    }
}

/// Transport limits (issue 14): request time-outs, rate limits, allowed browser origins.
#[derive(Debug, Clone)]
pub struct GuardSettings {
    /// `REQUEST_HEAD_TIMEOUT_SECS`: how long a client may take to send the request line and headers
    /// (408 after). Default 5.
    pub head_timeout_secs: u64,
    /// `REQUEST_BODY_TIMEOUT_SECS`: how long a client may take to send the whole body (408 after).
    /// Default 30.
    pub body_timeout_secs: u64,
    /// `RATE_LIMIT_PER_PRINCIPAL`: requests per minute one authenticated caller (`sub` and role) may
    /// make, with bursts up to `RATE_LIMIT_BURST`; 0 turns the limit off. Default 3000 (50 a second).
    pub per_principal_per_minute: u32,
    /// `RATE_LIMIT_PER_ADDRESS`: requests per minute one client address may make, whoever sends them;
    /// 0 turns the limit off. Default 30000 (500 a second: a whole office behind one address).
    pub per_address_per_minute: u32,
    /// `RATE_LIMIT_BURST`: how many requests may come at once before the per-minute rate applies.
    /// Default 300.
    pub burst: u32,
    /// `RATE_LIMIT_TRUST_FORWARDED`: take the client address from `Forwarded`/`X-Forwarded-For` (only
    /// behind a proxy that sets it). Default false: the peer address.
    pub trust_forwarded: bool,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins (`https://portal.example.kz`) whose browser
    /// front ends may call the API. Default none: no cross-origin access.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            head_timeout_secs: 5,
            body_timeout_secs: 30,
            per_principal_per_minute: 3000,
            per_address_per_minute: 30000,
            burst: 300,
            trust_forwarded: false,
            cors_allowed_origins: Vec::new(),
        }
    }
}

impl GuardSettings {
    pub fn from_env() -> Result<GuardSettings, ConfigError> {
        let d = GuardSettings::default();
        let num = |name: &str, default: u64| -> Result<u64, ConfigError> {
            var(name).map_or(Ok(default), |v| {
                v.trim().parse().map_err(|_| ConfigError(format!("{name} must be a whole number, got `{v}`")))
            })
        };
        let head_timeout_secs = num("REQUEST_HEAD_TIMEOUT_SECS", d.head_timeout_secs)?;
        let body_timeout_secs = num("REQUEST_BODY_TIMEOUT_SECS", d.body_timeout_secs)?;
        if head_timeout_secs == 0 || body_timeout_secs == 0 {
            return Err(ConfigError("request time-outs must be at least 1 second".into()));
        }
        let burst = num("RATE_LIMIT_BURST", d.burst as u64)?;
        if burst == 0 {
            return Err(ConfigError("RATE_LIMIT_BURST must be at least 1".into()));
        }
        let mut cors_allowed_origins = Vec::new();
        for origin in var("CORS_ALLOWED_ORIGINS").unwrap_or_default().split(',').map(str::trim) {
            if origin.is_empty() {
                continue;
            }
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && origin.split("://").nth(1).is_some_and(|h| !h.is_empty() && !h.contains('/'));
            if !ok {
                return Err(ConfigError(format!(
                    "CORS_ALLOWED_ORIGINS: `{origin}` is not an origin (scheme://host[:port], no path)"
                )));
            }
            cors_allowed_origins.push(origin.to_string());
        }
        Ok(GuardSettings {
            head_timeout_secs,
            body_timeout_secs,
            per_principal_per_minute: num("RATE_LIMIT_PER_PRINCIPAL", d.per_principal_per_minute as u64)? as u32,
            per_address_per_minute: num("RATE_LIMIT_PER_ADDRESS", d.per_address_per_minute as u64)? as u32,
            burst: burst as u32,
            trust_forwarded: var("RATE_LIMIT_TRUST_FORWARDED").is_some_and(|v| v == "true" || v == "1"),
            cors_allowed_origins,
        })
    }
}

/// The default `JWT_MAX_LIFETIME_SECS`: a working day's session with margin.
pub const DEFAULT_MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// `JWT_HS256_SECRET`: shared secret for HS256 (development). Also what `api token` signs with.
    pub hs256_secret: Option<String>,
    /// `JWT_RS256_PUBLIC_KEY`: path to a PEM RSA public key (production).
    pub rs256_public_key_pem: Option<String>,
    /// `JWT_ES256_PUBLIC_KEY`: path to a PEM EC P-256 public key (production).
    pub es256_public_key_pem: Option<String>,
    /// `JWT_ISSUER`: when set, tokens must carry this `iss`.
    pub issuer: Option<String>,
    /// `JWT_AUDIENCE`: when set, tokens must carry this `aud`.
    pub audience: Option<String>,
    /// `JWT_MAX_LIFETIME_SECS`: the longest a token may live (`exp` - `iat`, and `exp` - now). Default 24 h.
    pub max_lifetime_secs: i64,
}

impl Default for JwtSettings {
    fn default() -> Self {
        JwtSettings {
            hs256_secret: None,
            rs256_public_key_pem: None,
            es256_public_key_pem: None,
            issuer: None,
            audience: None,
            max_lifetime_secs: DEFAULT_MAX_TOKEN_LIFETIME_SECS,
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "./data/app.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn read_file(name: &str, path: Option<String>) -> Result<Option<String>, ConfigError> {
    path.map(|p| std::fs::read_to_string(&p).map_err(|e| ConfigError(format!("{name}: cannot read {p}: {e}"))))
        .transpose()
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        let bind = var("APP_BIND").unwrap_or_else(|| DEFAULT_BIND.into());
        let parse_num = |name: &str, default: u64| -> Result<u64, ConfigError> {
            var(name).map_or(Ok(default), |v| {
                v.parse().map_err(|_| ConfigError(format!("{name} must be a number, got `{v}`")))
            })
        };
        Ok(Settings {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            bind: bind.parse().map_err(|_| ConfigError(format!("APP_BIND must be host:port, got `{bind}`")))?,
            pool_size: parse_num("DB_POOL_SIZE", 8)? as u32,
            durable_journal: match var("ACCESS_LOG_DURABLE").as_deref() {
                None | Some("false") | Some("0") => false,
                Some("true") | Some("1") => true,
                Some(v) => return Err(ConfigError(format!("ACCESS_LOG_DURABLE must be true or false, got `{v}`"))),
            },
            fold_monitoring_counts: match var("MONITORING_FOLD").as_deref() {
                None | Some("true") | Some("1") => true,
                Some("false") | Some("0") => false,
                Some(v) => return Err(ConfigError(format!("MONITORING_FOLD must be true or false, got `{v}`"))),
            },
            resume_recomputes: match var("RECOMPUTE_RESUME").as_deref() {
                None | Some("true") | Some("1") => true,
                Some("false") | Some("0") => false,
                Some(v) => return Err(ConfigError(format!("RECOMPUTE_RESUME must be true or false, got `{v}`"))),
            },
            max_body_bytes: parse_num("MAX_BODY_BYTES", 1024 * 1024)? as usize,
            jwt: JwtSettings::from_env()?,
            log_filter: var("RUST_LOG").unwrap_or_else(|| "info".into()),
            log_json: var("LOG_FORMAT").is_none_or(|f| f != "pretty"),
            guard: GuardSettings::from_env()?,
            delivery: DeliverySettings::from_env()?,
        })
    }
}

impl JwtSettings {
    pub fn from_env() -> Result<JwtSettings, ConfigError> {
        let hs256_secret = var("JWT_HS256_SECRET");
        if let Some(s) = &hs256_secret {
            if s.len() < 16 {
                return Err(ConfigError("JWT_HS256_SECRET must be at least 16 characters".into()));
            }
        }
        Ok(JwtSettings {
            hs256_secret,
            rs256_public_key_pem: read_file("JWT_RS256_PUBLIC_KEY", var("JWT_RS256_PUBLIC_KEY"))?,
            es256_public_key_pem: read_file("JWT_ES256_PUBLIC_KEY", var("JWT_ES256_PUBLIC_KEY"))?,
            issuer: var("JWT_ISSUER"),
            audience: var("JWT_AUDIENCE"),
            max_lifetime_secs: match var("JWT_MAX_LIFETIME_SECS") {
                None => DEFAULT_MAX_TOKEN_LIFETIME_SECS,
                Some(v) => v.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ConfigError(format!("JWT_MAX_LIFETIME_SECS must be a positive number of seconds, got `{v}`"))
                })?,
            },
        })
    }
}

/// Documents: attachment uploads and the key that signs result documents.
///
/// Read by [`crate::start`] itself (not part of [`Settings`], so that code building `Settings` by hand,
/// such as the end-to-end harness, keeps working).
#[derive(Clone, Default)]
pub struct DocumentSettings {
    /// `MAX_UPLOAD_BYTES`: the largest attachment accepted (larger ones get 413). Default 10 MiB.
    pub max_upload_bytes: usize,
    /// `DOCUMENT_SIGNING_KEY`: the Ed25519 seed (32 bytes, 64 hex digits) that signs result documents.
    /// When unset, a key is generated once and kept in the database (development only).
    pub signing_key_seed: Option<[u8; 32]>,
}

impl std::fmt::Debug for DocumentSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentSettings")
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("signing_key_seed", &self.signing_key_seed.map(|_| "<redacted>"))
            .finish()
    }
}

pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

impl DocumentSettings {
    pub fn from_env() -> Result<DocumentSettings, ConfigError> {
        let max_upload_bytes = match var("MAX_UPLOAD_BYTES") {
            None => DEFAULT_MAX_UPLOAD_BYTES,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError(format!("MAX_UPLOAD_BYTES must be a positive number, got `{v}`")))?,
        };
        let signing_key_seed = var("DOCUMENT_SIGNING_KEY").map(|v| parse_seed(&v)).transpose()?;
        Ok(DocumentSettings { max_upload_bytes, signing_key_seed })
    }
}

/// A 32-byte Ed25519 seed written as 64 hex digits.
pub fn parse_seed(hex_seed: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = hex::decode(hex_seed.trim())
        .map_err(|_| ConfigError("DOCUMENT_SIGNING_KEY must be hex (64 hex digits: an Ed25519 seed)".into()))?;
    bytes
        .try_into()
        .map_err(|_| ConfigError("DOCUMENT_SIGNING_KEY must be 32 bytes (64 hex digits: an Ed25519 seed)".into()))
}
