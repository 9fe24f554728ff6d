//! Authentication: bearer JWTs, verified with HS256 (development) or RS256/ES256 public keys
//! (production), and the caller's role and organisation taken from the claims.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
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
        }
    }

    /// Staff roles act for an organisation and must carry `org`.
    pub fn needs_org(self) -> bool {
        matches!(self, Role::Operator | Role::Employee | Role::Head | Role::Reviewer)
    }
}

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

    /// The organisation of a staff caller (guaranteed present by authentication).
    pub fn org(&self) -> &str {
        self.org.as_deref().unwrap_or_default()
    }
}

/// Tolerated clock skew between the token issuer and this server.
const LEEWAY_SECONDS: i64 = 30;

/// Verifies tokens against the configured keys.
pub struct Authenticator {
    keys: Vec<(Algorithm, DecodingKey)>,
    issuer: Option<String>,
    audience: Option<String>,
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
        Ok(Authenticator { keys, issuer: cfg.issuer.clone(), audience: cfg.audience.clone() })
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Verifies a token: signature with a key of the token's own algorithm (only algorithms we hold a
    /// key for; `none` never), expiry against the server's clock `now` (so a pinned clock governs
    /// tokens too), optional issuer and audience, and the claims' shape.
    pub fn verify(&self, token: &str, now: i64) -> Result<Principal, ApiError> {
        let unauthorized = |m: &str| ApiError::Unauthorized(m.to_string());
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
        if c.role.needs_org() && c.org.as_deref().is_none_or(str::is_empty) {
            return Err(unauthorized(&format!("a `{}` token must carry `org`", c.role.code())));
        }
        if c.role == Role::Applicant && !(c.sub.len() == 12 && c.sub.bytes().all(|b| b.is_ascii_digit())) {
            return Err(unauthorized("an applicant token's `sub` must be the person's 12-digit IIN"));
        }
        Ok(Principal { sub: c.sub, role: c.role, org: c.org })
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
        iss: None,
        aud: None,
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signing cannot fail")
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

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Principal, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = (|| {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            state.auth.verify(bearer(req)?, state.clock.now().timestamp())
        })();
        ready(result)
    }
}
