//! Authentication: bearer JWTs, verified with HS256 (development) or RS256/ES256 public keys
//! (production), and the caller's role and organisation taken from the claims.
//!
//! A token is trusted only as far as it goes: its signature, `exp`, `nbf` and `iat` against the
//! server's (injectable) clock, a lifetime no longer than `JWT_MAX_LIFETIME_SECS`, no `crit` extension
//! (none is understood here, RFC 7515 section 4.1.11), a `sub` that is an IIN with a valid check digit
//! for applicants and a bounded identifier for everyone else, and for staff an `org` that exists and is
//! of the kind the role works for (an operator at a State Corporation centre, an employee or head at a
//! provider, a reviewer at the review body). Anything else is 401.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::JwtSettings;
use crate::error::ApiError;
use crate::state::AppState;

/// Who the caller is in the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A citizen (көрсетілетін қызметті алушы), `sub` is their IIN.
    Applicant,
    /// State Corporation staff filing on a person's behalf; `org` is the service centre.
    Operator,
    /// Provider staff deciding applications; `org` is the provider.
    Employee,
    /// Head of the provider: assigns applications, signs decisions; `org` is the provider.
    Head,
    /// The complaint review body; `org` is that body.
    Reviewer,
    /// System administrator: catalog, calendar, registries.
    Admin,
    /// A service account of another state system (issue 12): `sub` is its client id, and its `scopes`
    /// say what it may read and whether it may manage subscriptions. It takes no step in the procedure.
    System,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::Operator => "operator",
            Role::Employee => "employee",
            Role::Head => "head",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }

    /// Staff roles act for an organisation and must carry `org`.
    pub fn needs_org(self) -> bool {
        self.org_kind().is_some()
    }

    /// The kind of organisation (`organizations.kind`) a staff role works for.
    pub fn org_kind(self) -> Option<&'static str> {
        match self {
            Role::Operator => Some("state_corporation"),
            Role::Employee | Role::Head => Some("provider"),
            Role::Reviewer => Some("review_body"),
            Role::Applicant | Role::Admin | Role::System => None,
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        [Role::Applicant, Role::Operator, Role::Employee, Role::Head, Role::Reviewer, Role::Admin, Role::System]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// The longest `sub` or `org` accepted: the width of the columns that record who acted.
pub const MAX_ID_LEN: usize = 64;

/// The claims this API reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The person's IIN, or a client id for service accounts.
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub sub: String,
    pub role: Role,
    pub org: Option<String>,
    /// A service account's scopes (`applications:read:free_school_meals`, `events:read:*`,
    /// `subscriptions:manage`); empty for everyone else.
    pub scopes: Vec<String>,
}

impl Principal {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.code()).collect();
            Err(ApiError::Forbidden(format!(
                "role `{}` may not do this; allowed: {}",
                self.role.code(),
                names.join(", ")
            )))
        }
    }

    /// 403 naming the scope unless a service account holds `scope` (`resource:action`, or
    /// `resource:action:service_key`, which `resource:action:*` also grants). Other roles are governed
    /// by their role alone and pass.
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.role != Role::System || grants(&self.scopes, scope) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!("the service account `{}` lacks the scope `{scope}`", self.sub)))
    }

    /// The services a service account may `resource:action` (`applications:read`): `None` for all
    /// (`...:*`, and every other role, whose rights come from its role).
    pub fn scoped_services(&self, resource_action: &str) -> Option<Vec<String>> {
        if self.role != Role::System {
            return None;
        }
        let prefix = format!("{resource_action}:");
        let keys: Vec<String> =
            self.scopes.iter().filter_map(|s| s.strip_prefix(&prefix)).map(str::to_string).collect();
        if keys.iter().any(|k| k == "*") {
            None
        } else {
            Some(keys)
        }
    }

    /// The organisation of a staff caller (guaranteed present by authentication).
    pub fn org(&self) -> &str {
        self.org.as_deref().unwrap_or_default()
    }
}

/// Tolerated clock skew between the token issuer and this server.
pub const LEEWAY_SECONDS: i64 = 30;

/// Verifies tokens against the configured keys.
pub struct Authenticator {
    keys: Vec<(Algorithm, DecodingKey)>,
    issuer: Option<String>,
    audience: Option<String>,
    max_lifetime: i64,
}

/// An identifier fit to be stored and shown: non-empty, at most [`MAX_ID_LEN`] bytes, no control
/// characters or surrounding blanks.
fn plain_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_LEN && s.trim() == s && !s.chars().any(char::is_control)
}

/// 401 when the token's protected header names critical extensions: none is implemented here, and a
/// recipient must refuse a token whose `crit` it does not understand (RFC 7515 section 4.1.11).
fn refuse_crit(token: &str) -> Result<(), ApiError> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let head = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .map_err(|_| ApiError::Unauthorized("the token is malformed".into()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Unauthorized("the token is malformed".into()))?;
    if value.get("crit").is_some() {
        return Err(ApiError::Unauthorized(
            "the token names critical extensions (`crit`) this server does not implement".into(),
        ));
    }
    Ok(())
}

impl Authenticator {
    pub fn new(cfg: &JwtSettings) -> Result<Authenticator, String> {
        let mut keys = Vec::new();
        if let Some(secret) = &cfg.hs256_secret {
            keys.push((Algorithm::HS256, DecodingKey::from_secret(secret.as_bytes())));
        }
        if let Some(pem) = &cfg.rs256_public_key_pem {
            let k = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("JWT_RS256_PUBLIC_KEY: {e}"))?;
            keys.push((Algorithm::RS256, k));
        }
        if let Some(pem) = &cfg.es256_public_key_pem {
            let k = DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| format!("JWT_ES256_PUBLIC_KEY: {e}"))?;
            keys.push((Algorithm::ES256, k));
        }
        if cfg.max_lifetime_secs <= 0 {
            return Err("JWT_MAX_LIFETIME_SECS must be positive".into());
        }
        Ok(Authenticator {
            keys,
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            max_lifetime: cfg.max_lifetime_secs,
        })
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Verifies a token: signature with a key of the token's own algorithm (only algorithms we hold a
    /// key for; `none` never), `exp`, `nbf` and `iat` against the server's clock `now` (so a pinned
    /// clock governs tokens too) with [`LEEWAY_SECONDS`] of skew, the maximum lifetime, no `crit`,
    /// optional issuer and audience, and the claims' shape. The organisation's existence and kind are
    /// checked by [`OrgDirectory::check`] (they need the database).
    pub fn verify(&self, token: &str, now: i64) -> Result<Principal, ApiError> {
        let unauthorized = |m: &str| ApiError::Unauthorized(m.to_string());
        refuse_crit(token)?;
        let head = decode_header(token)
            .map_err(|_| unauthorized("the token is malformed or its algorithm is not accepted"))?;
        let (alg, key) = self
            .keys
            .iter()
            .find(|(a, _)| *a == head.alg)
            .ok_or_else(|| unauthorized(&format!("tokens signed with {:?} are not accepted here", head.alg)))?;
        let mut v = Validation::new(*alg);
        // Expiry is checked below against the injectable clock rather than the wall clock.
        v.validate_exp = false;
        v.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
        }
        match &self.audience {
            Some(aud) => v.set_audience(&[aud]),
            None => v.validate_aud = false,
        }
        let data = decode::<Claims>(token, key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => unauthorized("the token has expired"),
                K::InvalidSignature => unauthorized("the token's signature is invalid"),
                K::InvalidIssuer | K::InvalidAudience => unauthorized("the token was issued for another system"),
                _ => unauthorized("the token is malformed or lacks required claims (sub, role, exp)"),
            }
        })?;
        let c = data.claims;
        if c.exp + LEEWAY_SECONDS < now {
            return Err(unauthorized("the token has expired"));
        }
        if c.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
            return Err(unauthorized("the token is not valid yet (`nbf` is in the future)"));
        }
        if let Some(iat) = c.iat {
            if iat > now + LEEWAY_SECONDS {
                return Err(unauthorized("the token was issued in the future (`iat`)"));
            }
            if c.exp - iat > self.max_lifetime + LEEWAY_SECONDS {
                return Err(unauthorized(&format!(
                    "the token lives longer than the {} seconds accepted here",
                    self.max_lifetime
                )));
            }
        }
        if c.exp - now > self.max_lifetime + LEEWAY_SECONDS {
            return Err(unauthorized(&format!(
                "the token lives longer than the {} seconds accepted here",
                self.max_lifetime
            )));
        }
        if c.role == Role::Applicant {
            domain::identity::Iin::parse(&c.sub)
                .map_err(|e| unauthorized(&format!("an applicant token's `sub` must be the person's IIN: {e}")))?;
        } else if !plain_id(&c.sub) {
            return Err(unauthorized(&format!(
                "`sub` must be 1 to {MAX_ID_LEN} characters without control characters or surrounding blanks"
            )));
        }
        let org = if c.role.needs_org() {
            match c.org {
                Some(org) if plain_id(&org) => Some(org),
                Some(_) => {
                    return Err(unauthorized(&format!(
                        "`org` must be 1 to {MAX_ID_LEN} characters without control characters or surrounding blanks"
                    )))
                }
                None => return Err(unauthorized(&format!("a `{}` token must carry `org`", c.role.code()))),
            }
        } else {
            // Applicants and administrators act for no organisation; an `org` they carry means nothing.
            None
        };
        let scopes = if c.role == Role::System { scopes_of(token)? } else { Vec::new() };
        Ok(Principal { sub: c.sub, role: c.role, org, scopes })
    }
}

/// The longest scope accepted, and the most scopes one token may carry.
pub const MAX_SCOPE_LEN: usize = 128;
pub const MAX_SCOPES: usize = 64;

/// Whether `held` grants `wanted`: equal, or `wanted` names a service that a `...:*` scope covers.
pub fn grants(held: &[String], wanted: &str) -> bool {
    held.iter().any(|h| {
        h == wanted || h.strip_suffix('*').is_some_and(|prefix| prefix.ends_with(':') && wanted.starts_with(prefix))
    })
}

/// A service account's scopes from its (verified) token: `scopes` as an array, or `scope` as a
/// space-separated string (RFC 8693, RFC 9068). 401 when malformed.
fn scopes_of(token: &str) -> Result<Vec<String>, ApiError> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let bad = |m: &str| ApiError::Unauthorized(m.to_string());
    let body = token.split('.').nth(1).unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD.decode(body.trim_end_matches('=')).map_err(|_| bad("the token is malformed"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad("the token is malformed"))?;
    let mut scopes: Vec<String> = Vec::new();
    match value.get("scopes") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(items)) => {
            for item in items {
                let s = item.as_str().ok_or_else(|| bad("`scopes` must be an array of strings"))?;
                scopes.push(s.to_string());
            }
        }
        Some(_) => return Err(bad("`scopes` must be an array of strings")),
    }
    match value.get("scope") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(s)) => scopes.extend(s.split(' ').filter(|p| !p.is_empty()).map(String::from)),
        Some(_) => return Err(bad("`scope` must be a space-separated string")),
    }
    if scopes.len() > MAX_SCOPES {
        return Err(bad(&format!("a token may carry at most {MAX_SCOPES} scopes")));
    }
    if let Some(s) = scopes.iter().find(|s| {
        s.len() > MAX_SCOPE_LEN
            || !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'*' | b'.'))
    }) {
        return Err(bad(&format!("the scope `{}` is not of the form resource:action[:service]", s.escape_default())));
    }
    Ok(scopes)
}

/// The organisations (id and kind) that staff tokens may name, cached from the database.
///
/// Loaded at start; an id not in the cache is looked up by primary key (and kept when found), so an
/// organisation added later is known at once, while tokens naming unknown ones cost one indexed
/// look-up each (bounded by the rate limits).
pub struct OrgDirectory {
    kinds: RwLock<HashMap<String, String>>,
}

impl OrgDirectory {
    pub fn load(db: &persistence::Database) -> Result<OrgDirectory, persistence::StoreError> {
        let kinds = db.read(persistence::organizations::list)?.into_iter().map(|r| (r.id, r.kind)).collect();
        Ok(OrgDirectory { kinds: RwLock::new(kinds) })
    }

    fn cached(&self, org: &str) -> Option<String> {
        self.kinds.read().unwrap_or_else(|p| p.into_inner()).get(org).cloned()
    }

    /// The kind of `org` (blocking on a cache miss).
    pub fn kind_of(&self, db: &persistence::Database, org: &str) -> Result<Option<String>, ApiError> {
        if let Some(kind) = self.cached(org) {
            return Ok(Some(kind));
        }
        let found = db.read(|c| persistence::organizations::find(c, org))?;
        if let Some(row) = &found {
            self.kinds.write().unwrap_or_else(|p| p.into_inner()).insert(row.id.clone(), row.kind.clone());
        }
        Ok(found.map(|r| r.kind))
    }

    /// 401 unless a staff principal's organisation exists and is of the kind its role works for.
    pub fn check(&self, db: &persistence::Database, who: &Principal) -> Result<(), ApiError> {
        let (Some(want), Some(org)) = (who.role.org_kind(), who.org.as_deref()) else { return Ok(()) };
        match self.kind_of(db, org)? {
            Some(kind) if kind == want => Ok(()),
            Some(kind) => Err(ApiError::Unauthorized(format!(
                "a `{}` token must name a {want} organisation; `{org}` is a {kind}",
                who.role.code()
            ))),
            None => Err(ApiError::Unauthorized(format!("the token names an unknown organisation `{org}`"))),
        }
    }

    /// Whether the check can be answered from the cache alone (no database round trip).
    fn check_cached(&self, who: &Principal) -> Option<Result<(), ApiError>> {
        let (Some(want), Some(org)) = (who.role.org_kind(), who.org.as_deref()) else { return Some(Ok(())) };
        let kind = self.cached(org)?;
        Some(if kind == want {
            Ok(())
        } else {
            Err(ApiError::Unauthorized(format!(
                "a `{}` token must name a {want} organisation; `{org}` is a {kind}",
                who.role.code()
            )))
        })
    }
}

/// Signs a development token with the HS256 secret (`api token`, and the tests).
pub fn mint_hs256(secret: &str, sub: &str, role: Role, org: Option<&str>, ttl_seconds: i64, now: i64) -> String {
    let claims = Claims {
        sub: sub.into(),
        role,
        org: org.map(Into::into),
        exp: now + ttl_seconds,
        iat: Some(now),
        nbf: None,
        iss: None,
        aud: None,
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signing cannot fail")
}

/// Signs a development service-account token (`api token --role system --scope ...`, and the tests).
pub fn mint_service_token(secret: &str, client_id: &str, scopes: &[String], ttl_seconds: i64, now: i64) -> String {
    let claims = serde_json::json!({
        "sub": client_id,
        "role": Role::System,
        "scopes": scopes,
        "exp": now + ttl_seconds,
        "iat": now,
    });
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signing cannot fail")
}

/// Service accounts read and manage their subscriptions; any other write is refused here, in one
/// place, so that no route that takes a step in the procedure can be reached with one.
fn refuse_system_writes(req: &HttpRequest, who: &Principal) -> Result<(), ApiError> {
    use actix_web::http::Method;
    let read = req.method() == Method::GET || req.method() == Method::HEAD;
    let subscriptions = req.path().starts_with("/api/v1/subscriptions");
    if who.role == Role::System && !read && !subscriptions {
        return Err(ApiError::Forbidden(
            "a service account reads and subscribes; it takes no step in the procedure".into(),
        ));
    }
    Ok(())
}

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("send `Authorization: Bearer <token>`".into()))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not readable".into()))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into()));
    }
    Ok(token.trim())
}

/// The result of verifying the request's token, kept in the request's extensions so that the rate
/// limiter and the extractor verify it once.
#[derive(Clone)]
pub struct Verified(pub Result<Principal, String>);

/// Verifies the request's bearer token (signature and claims, not the organisation), once per request.
pub fn verified(req: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    if let Some(Verified(v)) = req.extensions().get::<Verified>() {
        return v.clone().map_err(ApiError::Unauthorized);
    }
    let result = bearer(req).and_then(|t| state.auth.verify(t, state.clock.now().timestamp())).map_err(|e| match e {
        ApiError::Unauthorized(m) => m,
        other => other.to_string(),
    });
    req.extensions_mut().insert(Verified(result.clone()));
    result.map_err(ApiError::Unauthorized)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Principal, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal("application state missing".into()))?
                .clone();
            let orgs = req
                .app_data::<web::Data<OrgDirectory>>()
                .ok_or_else(|| ApiError::Internal("organisation directory missing".into()))?
                .clone();
            let who = verified(&req, &state)?;
            refuse_system_writes(&req, &who)?;
            match orgs.check_cached(&who) {
                Some(result) => result?,
                None => {
                    let who2 = who.clone();
                    web::block(move || orgs.check(&state.db, &who2)).await??;
                }
            }
            req.extensions_mut().insert(who.clone());
            Ok(who)
        })
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    fn held(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_star_grants_every_service_of_its_resource_and_action_only() {
        let h = held(&["events:read:*", "applications:read:free_school_meals"]);
        assert!(grants(&h, "events:read:preschool_queue"));
        assert!(grants(&h, "applications:read:free_school_meals"));
        assert!(!grants(&h, "applications:read:preschool_queue"));
        assert!(!grants(&h, "events:write:preschool_queue"));
        assert!(!grants(&h, "subscriptions:manage"));
        assert!(!grants(&held(&["*"]), "subscriptions:manage"), "a bare star is no scope");
    }

    #[test]
    fn a_service_account_is_told_which_scope_it_lacks() {
        let who = Principal {
            sub: "monitoring-system".into(),
            role: Role::System,
            org: None,
            scopes: held(&["events:read:free_school_meals"]),
        };
        assert_eq!(who.scoped_services("events:read"), Some(held(&["free_school_meals"])));
        assert_eq!(who.scoped_services("applications:read"), Some(vec![]));
        let e = who.require_scope("subscriptions:manage").unwrap_err();
        assert!(e.to_string().contains("`subscriptions:manage`"), "{e}");
        let admin = Principal { sub: "a".into(), role: Role::Admin, org: None, scopes: vec![] };
        assert!(admin.require_scope("subscriptions:manage").is_ok(), "other roles go by their role");
        assert_eq!(admin.scoped_services("events:read"), None);
    }

    #[test]
    fn scopes_come_from_an_array_or_a_space_separated_string() {
        let token = mint_service_token("0123456789abcdef0123", "c", &held(&["events:read:*"]), 60, 1_800_000_000);
        assert_eq!(scopes_of(&token).unwrap(), held(&["events:read:*"]));
        let claims = serde_json::json!({"sub": "c", "role": "system", "exp": 1, "scope": "a:b c:d:*"});
        let t = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"k")).unwrap();
        assert_eq!(scopes_of(&t).unwrap(), held(&["a:b", "c:d:*"]));
        let bad = serde_json::json!({"sub": "c", "role": "system", "exp": 1, "scopes": ["a b"]});
        let t = encode(&Header::new(Algorithm::HS256), &bad, &EncodingKey::from_secret(b"k")).unwrap();
        assert!(scopes_of(&t).is_err());
    }
}
