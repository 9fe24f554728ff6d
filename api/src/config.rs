//! Configuration from environment variables (documented in README.md).

use std::net::SocketAddr;

/// Everything the server needs to start, read once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `postgres://...` for PostgreSQL, a file path (or `sqlite://path`) for SQLite.
    pub database_url: String,
    /// `APP_BIND`: address and port to listen on.
    pub bind: SocketAddr,
    /// `DB_POOL_SIZE`.
    pub pool_size: u32,
    /// `MAX_BODY_BYTES`: the largest JSON body accepted (larger ones get 413).
    pub max_body_bytes: usize,
    pub jwt: JwtSettings,
    /// `RUST_LOG` (filter, e.g. `info,api=debug`).
    pub log_filter: String,
    /// `LOG_FORMAT`: `json` (default; one object per line, for log shippers) or `pretty`.
    pub log_json: bool,
}

#[derive(Debug, Clone, Default)]
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
            max_body_bytes: parse_num("MAX_BODY_BYTES", 1024 * 1024)? as usize,
            jwt: JwtSettings::from_env()?,
            log_filter: var("RUST_LOG").unwrap_or_else(|| "info".into()),
            log_json: var("LOG_FORMAT").is_none_or(|f| f != "pretty"),
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
