//! The API's one error type, rendered in one place as RFC 9457 `application/problem+json`.
//!
//! Every 4xx and 5xx the server produces goes through [`ApiError`]: handlers, extractors (bad JSON,
//! oversized bodies, bad query strings), authentication, unknown routes and wrong methods. Clients can
//! switch on the stable `code` (also the last segment of `type`); `errors` names each invalid field
//! with the rule it broke.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";
const TYPE_PREFIX: &str = "urn:kz-family-services:problem:";

/// One invalid field: where it is (a JSON pointer-like path such as `form.children[0].iin`) and which
/// rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a path into the request: `service_key`, `form.children[0].iin`, `query.at`.
    #[schema(example = "channel")]
    pub field: String,
    /// The rule that was broken, stable for machines: `required`, `format`, `unknown_service`, ...
    #[schema(example = "channel_not_offered")]
    pub rule: String,
    /// What is wrong, for people.
    #[schema(example = "the service is not offered through this channel")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), rule: rule.into(), message: message.into() }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:kz-family-services:problem:validation_failed",
    "title": "The request is not valid",
    "status": 422,
    "code": "validation_failed",
    "detail": "1 field is invalid",
    "errors": [{"field": "channel", "rule": "channel_not_offered", "message": "the service is not offered through this channel"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem; its last segment equals `code`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path the problem occurred on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For state conflicts: the current state and the actions allowed in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
    /// For a step the procedure refuses: where the law states the rule it broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "APC art. 73-74: the applicant is heard on each ground before a refusal")]
    pub legal_basis: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request: unparsable JSON, bad query string.
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String, errors: Vec<FieldError> },
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<String> },
    #[error("not acceptable")]
    NotAcceptable(String),
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String, state: Option<String>, allowed_actions: Option<Vec<String>> },
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large")]
    PayloadTooLarge(String),
    /// The client did not send its request (head or body) in time.
    #[error("request timeout: {0}")]
    RequestTimeout(String),
    /// Too many requests from this caller or address; retry after that many seconds.
    #[error("too many requests")]
    TooManyRequests { detail: String, retry_after_secs: u64 },
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    /// Well-formed but invalid input: each field and rule listed.
    #[error("validation failed")]
    Validation { code: &'static str, detail: String, errors: Vec<FieldError> },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A step the procedure refuses (`domain`): 403, 409 or 422 by its kind, naming the rule and the
    /// provision it comes from.
    #[error("{0}")]
    Procedure(domain::violation::Violation),
}

impl From<domain::violation::Violation> for ApiError {
    fn from(v: domain::violation::Violation) -> Self {
        ApiError::Procedure(v)
    }
}

impl ApiError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let n = errors.len();
        ApiError::Validation {
            code: "validation_failed",
            detail: if n == 1 {
                format!("`{}`: {}", errors[0].field, errors[0].message)
            } else {
                format!("{n} fields are invalid")
            },
            errors,
        }
    }

    pub fn field(field: &str, rule: &str, message: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError::new(field, rule, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound(what.into())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code, "The request is malformed"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Authentication is required"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "This action is not allowed for your role"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed on this resource")
            }
            ApiError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "not_acceptable", "Not acceptable"),
            ApiError::Conflict { code, .. } => {
                (StatusCode::CONFLICT, code, "The request conflicts with the current state")
            }
            ApiError::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "precondition_failed", "The resource changed since you read it")
            }
            ApiError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported content type")
            }
            ApiError::RequestTimeout(_) => {
                (StatusCode::REQUEST_TIMEOUT, "request_timeout", "The request did not arrive in time")
            }
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "Too many requests; slow down")
            }
            ApiError::Validation { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code, "The request is not valid"),
            ApiError::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The service is temporarily unavailable")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Internal server error"),
            ApiError::Procedure(v) => {
                use domain::violation::Violation as V;
                match v {
                    V::NotForThisActor { .. } => {
                        (StatusCode::FORBIDDEN, "forbidden", "This action is not allowed for your role")
                    }
                    V::NotNow { rule, .. } => {
                        (StatusCode::CONFLICT, rule, "The request conflicts with the current state")
                    }
                    V::Invalid { .. } => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "The request is not valid")
                    }
                }
            }
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        let (detail, errors, state, allowed_actions) = match self {
            ApiError::BadRequest { detail, errors, .. } | ApiError::Validation { detail, errors, .. } => {
                (Some(detail.clone()), errors.clone(), None, None)
            }
            ApiError::Conflict { detail, state, allowed_actions, .. } => {
                (Some(detail.clone()), vec![], state.clone(), allowed_actions.clone())
            }
            ApiError::MethodNotAllowed { allowed } => {
                (Some(format!("allowed: {}", allowed.join(", "))), vec![], None, None)
            }
            // Internal details stay in the log, never in the response.
            ApiError::Internal(_) => (Some("the error was logged; please retry later".into()), vec![], None, None),
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::NotAcceptable(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::RequestTimeout(d)
            | ApiError::TooManyRequests { detail: d, .. }
            | ApiError::Unavailable(d) => (Some(d.clone()), vec![], None, None),
            ApiError::Procedure(v) => {
                use domain::violation::Violation as V;
                match v {
                    V::NotForThisActor { detail, .. } => (Some(detail.clone()), vec![], None, None),
                    V::NotNow { detail, state, allowed, .. } => {
                        (Some(detail.clone()), vec![], Some(state.clone()), Some(allowed.clone()))
                    }
                    V::Invalid { fields, .. } => {
                        let errors: Vec<FieldError> =
                            fields.iter().map(|f| FieldError::new(&f.field, &f.rule, &f.message)).collect();
                        let detail = if errors.len() == 1 {
                            format!("`{}`: {}", errors[0].field, errors[0].message)
                        } else {
                            format!("{} fields are invalid", errors.len())
                        };
                        (Some(detail), errors, None, None)
                    }
                }
            }
        };
        let legal_basis = match self {
            ApiError::Procedure(v) => v.basis().map(String::from),
            _ => None,
        };
        Problem {
            problem_type: format!("{TYPE_PREFIX}{code}"),
            title: title.into(),
            status: status.as_u16(),
            code: code.into(),
            detail,
            instance: None,
            errors,
            state,
            allowed_actions,
            legal_basis,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(msg) = self {
            tracing::error!(error = %msg, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"kz-family-services\""));
            }
            ApiError::MethodNotAllowed { allowed } => {
                res.insert_header((header::ALLOW, allowed.join(", ")));
            }
            ApiError::TooManyRequests { retry_after_secs, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.to_problem()).unwrap_or_default())
    }
}

impl From<persistence::StoreError> for ApiError {
    fn from(e: persistence::StoreError) -> Self {
        use persistence::StoreError as S;
        match e {
            S::NotFound => ApiError::NotFound("not found".into()),
            S::Conflict(m) => ApiError::Conflict {
                code: "conflict",
                detail: format!("a concurrent change won: {m}; read the resource again and retry"),
                state: None,
                allowed_actions: None,
            },
            S::Unavailable(m) => ApiError::Unavailable(m),
            S::Setup(m) => ApiError::Internal(m),
            S::Database(e) => ApiError::Internal(e.to_string()),
            S::Corrupt(m) => ApiError::Internal(m),
        }
    }
}

impl From<persistence::DieselError> for ApiError {
    fn from(e: persistence::DieselError) -> Self {
        persistence::StoreError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
