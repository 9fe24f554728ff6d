//! The transport guard around every route (issue 14): request ids, one log line per request with
//! personal data redacted, security headers, rate limits, request body time-outs, HEAD on GET routes,
//! control characters and impossible lengths in paths and queries refused before any route runs, and
//! every error answered as `application/problem+json`.
//!
//! Two middlewares, registered in [`crate::start`] (outermost first): [`outer`] (request id, log,
//! headers, problem+json for errors that did not come from [`ApiError`]), then CORS, then [`inner`]
//! (rate limits, path and query checks, HEAD, body time-out).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use futures_util::Stream;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::auth::{Principal, Role, Verified};
use crate::config::GuardSettings;
use crate::error::{ApiError, FieldError, PROBLEM_JSON};
use crate::extract::{control_error, is_bad_control};
use crate::routes::RouteTable;
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// The request's id: the caller's `X-Request-Id` when it is a sane token, else a fresh UUID v7. Echoed
/// in the response and written to the log and the access journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    fn of(req: &ServiceRequest) -> RequestId {
        let given = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        });
        RequestId(given.map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_string))
    }
}

/// The rate limiters and time-outs, shared by all workers.
pub struct Guard {
    per_principal: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<String>>,
    calls: AtomicU64,
    body_timeout: Duration,
    trust_forwarded: bool,
}

fn limiter(per_minute: u32, burst: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    let per_minute = std::num::NonZeroU32::new(per_minute)?;
    let burst = std::num::NonZeroU32::new(burst).unwrap_or(std::num::NonZeroU32::MIN);
    Some(DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)))
}

impl Guard {
    pub fn new(cfg: &GuardSettings) -> Guard {
        Guard {
            per_principal: limiter(cfg.per_principal_per_minute, cfg.burst),
            per_address: limiter(cfg.per_address_per_minute, cfg.burst),
            calls: AtomicU64::new(0),
            body_timeout: Duration::from_secs(cfg.body_timeout_secs),
            trust_forwarded: cfg.trust_forwarded,
        }
    }

    /// 429 with the seconds to wait when `key` has used its quota.
    fn check(&self, limiter: &Option<DefaultKeyedRateLimiter<String>>, key: String, who: &str) -> Result<(), ApiError> {
        let Some(limiter) = limiter else { return Ok(()) };
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::TooManyRequests {
                detail: format!("too many requests from this {who}; retry in {} s", secs.max(1)),
                retry_after_secs: secs.max(1),
            }
        })
    }

    fn forget_idle_keys(&self) {
        // Keyed limiters keep a cell per key; drop the ones back at full quota now and then.
        if self.calls.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            for l in [&self.per_principal, &self.per_address].into_iter().flatten() {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
    }
}

/// Request id, the request log, security headers, and problem+json for every error response.
pub async fn outer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse, actix_web::Error> {
    let started = Instant::now();
    let id = RequestId::of(&req);
    req.extensions_mut().insert(id.clone());
    let method = req.method().clone();
    let path = redact_target(req.path(), req.query_string());
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    // (The request must not be cloned here: routing needs it unshared.)
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // Only a failing middleware gets here (handlers' errors are responses by now); actix
            // renders it.
            tracing::warn!(target: "api::request", request_id = %id.0, method = %method, path = %path, error = %e, "request failed");
            return Err(e);
        }
    };
    let mut res = if res.status().as_u16() >= 400 && !is_problem(&res) { as_problem(res) } else { res };

    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        h.insert(HeaderName::from_static(REQUEST_ID), v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if docs {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    } else {
        // API answers carry personal data unless the route declared them public (the signing key).
        let public = h.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("public"));
        if !public {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }

    let (principal, role, org) = match logged_principal(&res) {
        Some(p) => (redact_sub(&p), p.role.code(), p.org.unwrap_or_default()),
        None => (String::new(), "", String::new()),
    };
    let route = res.request().match_pattern().unwrap_or_else(|| "-".into());
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "api::request",
        request_id = %id.0,
        method = %method,
        route = %route,
        path = %path,
        status,
        latency_ms = format!("{latency_ms:.1}"),
        principal = %principal,
        role,
        org = %org,
        "request"
    );
    Ok(res)
}

/// The Swagger UI page loads its own scripts and styles only; inline styles are Swagger's.
const DOCS_CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn logged_principal(res: &ServiceResponse) -> Option<Principal> {
    let ext = res.request().extensions();
    ext.get::<Principal>().cloned().or_else(|| ext.get::<Verified>().and_then(|v| v.0.clone().ok()))
}

fn is_problem(res: &ServiceResponse) -> bool {
    res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// An error answered by something other than [`ApiError`] (actix itself, CORS, the Swagger UI): the
/// same status as a problem document, keeping headers such as `Allow`.
fn as_problem(res: ServiceResponse) -> ServiceResponse {
    let (req, old) = res.into_parts();
    let status = old.status();
    let error = match status {
        StatusCode::BAD_REQUEST => {
            ApiError::BadRequest { code: "bad_request", detail: "the request is malformed".into(), errors: vec![] }
        }
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized("authentication is required".into()),
        StatusCode::FORBIDDEN => ApiError::Forbidden("not allowed".into()),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed {
            allowed: old
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').map(|m| m.trim().to_string()).collect())
                .unwrap_or_default(),
        },
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the request is too large".into()),
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout("the request did not arrive in time".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType("unsupported content type".into()),
        StatusCode::NOT_ACCEPTABLE => ApiError::NotAcceptable("not acceptable".into()),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable("temporarily unavailable".into()),
        s if s.is_server_error() => ApiError::Internal(format!("{s} answered without a problem document")),
        _ => ApiError::NotFound("no such resource".into()),
    };
    let mut new = error.error_response();
    *new.status_mut() = status;
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !new.headers().contains_key(name) {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}

/// Rate limits, path and query checks, HEAD answered as GET, and the body time-out.
pub async fn inner(
    guard: web::Data<Guard>,
    state: web::Data<AppState>,
    routes: web::Data<RouteTable>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse, actix_web::Error> {
    guard.forget_idle_keys();
    // Orchestrators' liveness and readiness probes are never throttled.
    let probe = req.path().starts_with("/health/");
    let address = if guard.trust_forwarded {
        req.connection_info().realip_remote_addr().map(|a| a.to_string())
    } else {
        req.peer_addr().map(|a| a.ip().to_string())
    }
    .unwrap_or_else(|| "unknown".into());
    if let Err(e) = guard.check(if probe { &None } else { &guard.per_address }, address, "client address") {
        return Ok(req.into_response(e.error_response()));
    }
    if !probe && req.headers().contains_key(header::AUTHORIZATION) {
        if let Ok(who) = crate::auth::verified(req.request(), &state) {
            let key = format!("{}:{}", who.role.code(), who.sub);
            if let Err(e) = guard.check(&guard.per_principal, key, "caller") {
                return Ok(req.into_response(e.error_response()));
            }
        }
    }
    let method = if req.method() == Method::HEAD { Method::GET } else { req.method().clone() };
    if let Err(e) = routes.check_target(&method, req.path(), req.query_string()) {
        return Ok(req.into_response(e.error_response()));
    }
    if req.method() == Method::HEAD
        && routes.best_match(req.path()).is_some_and(|r| r.methods.iter().any(|m| m == "GET"))
    {
        // Answered by the GET route; the HTTP layer sends the head without the body.
        req.head_mut().method = Method::GET;
    }
    let has_body = req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if has_body {
        let (_, payload) = req.parts_mut();
        let inner = std::mem::replace(payload, Payload::None);
        let deadline = Deadline { inner, sleep: Box::pin(actix_web::rt::time::sleep(guard.body_timeout)), done: false };
        req.set_payload(Payload::Stream { payload: Box::pin(deadline) });
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// A request body that must arrive whole within a deadline: after it the stream ends with a time-out
/// error ([`is_body_timeout`]), which the extractors answer with 408.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<actix_web::rt::time::Sleep>>,
    done: bool,
}

const BODY_TIMEOUT: &str = "the request body did not arrive in time";

impl Stream for Deadline {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let timed_out = |this: &mut Self| {
            this.done = true;
            Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, BODY_TIMEOUT)))))
        };
        if self.sleep.is_elapsed() {
            return timed_out(&mut self);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => timed_out(&mut self),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }
}

/// Whether a body-reading error is the body time-out.
pub fn is_body_timeout(e: &actix_web::Error) -> bool {
    matches!(e.as_error::<PayloadError>(), Some(PayloadError::Io(io)) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Percent-decodes one path segment or query value (invalid UTF-8 is replaced, not refused: the route
/// refuses it).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

impl RouteTable {
    /// Refuses, before any route runs, what no route could store: control characters in a path
    /// segment (422 `path.<name>`) or a query parameter (422 `query.<name>`), a path parameter longer
    /// than the spec declares (404: no such resource can exist) and a query value longer than declared
    /// (422).
    pub fn check_target(&self, method: &Method, path: &str, query: &str) -> Result<(), ApiError> {
        let route = self.best_match(path);
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        if let Some(route) = route {
            for (seg, raw) in route.segments.iter().zip(&parts) {
                let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else { continue };
                let value = percent_decode(raw);
                if value.chars().any(is_bad_control) {
                    return Err(ApiError::validation(vec![control_error(format!("path.{name}"), &value)]));
                }
                if route.path_max.get(name).is_some_and(|max| value.chars().count() > *max) {
                    return Err(ApiError::NotFound(format!("no resource has a {name} that long")));
                }
            }
        } else if parts.iter().any(|p| percent_decode(p).chars().any(is_bad_control)) {
            return Err(ApiError::NotFound("no resource at this path".into()));
        }
        let mut errors = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let base = name.split('[').next().unwrap_or(&name).to_string();
            if name.chars().any(is_bad_control) || value.chars().any(is_bad_control) {
                errors.push(control_error(format!("query.{base}"), if value.contains('\0') { &value } else { &name }));
                continue;
            }
            let max = route.and_then(|r| r.query_max.get(&(method.as_str().to_string(), base.clone())));
            if let Some(max) = max {
                if value.chars().count() > *max {
                    errors.push(FieldError::new(
                        format!("query.{base}"),
                        "length",
                        format!("must be at most {max} characters"),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// The target as logged: IIN-like numbers (12 digits) and token-like query values replaced.
pub fn redact_target(path: &str, query: &str) -> String {
    let mut out = redact_digits(path);
    if !query.is_empty() {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let key = k.to_ascii_lowercase();
                if ["token", "access_token", "id_token", "refresh_token", "code", "password", "secret", "jws"]
                    .iter()
                    .any(|s| key == *s || key.ends_with("_token"))
                {
                    format!("{k}=<redacted>")
                } else {
                    format!("{}={}", redact_digits(k), redact_digits(v))
                }
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// Replaces every run of exactly 12 digits (an IIN or BIN) with `<iin>`.
pub fn redact_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 12 {
            out.push_str("<iin>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The principal as logged: an applicant's `sub` is their IIN and is never written.
fn redact_sub(p: &Principal) -> String {
    if p.role == Role::Applicant {
        "<iin>".into()
    } else {
        redact_digits(&p.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iins_and_tokens_are_redacted_from_logged_targets() {
        assert_eq!(
            redact_target("/api/v1/registries/persons/records", "subject_iin=900101300126&lang=kk"),
            "/api/v1/registries/persons/records?subject_iin=<iin>&lang=kk"
        );
        assert_eq!(
            redact_target("/x/900101300126/y", "access_token=abc.def&limit=20"),
            "/x/<iin>/y?access_token=<redacted>&limit=20"
        );
        // Shorter and longer digit runs are not IINs (years, sequence numbers, UUID parts).
        assert_eq!(redact_digits("2026-00000123-1234567890123"), "2026-00000123-1234567890123");
    }

    #[test]
    fn percent_decoding_finds_nul() {
        assert_eq!(percent_decode("a%00b"), "a\0b");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41"), "A");
    }
}
