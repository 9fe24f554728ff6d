//! `/api/v1/subscriptions`: integrators are told, not made to poll (issue 12).
//!
//! Administrators and service accounts holding `subscriptions:manage` subscribe a callback URL (a
//! webhook, signed per the Standard Webhooks specification) or a NATS JetStream subject, with filters
//! on the event kind, the service and the provider, in the manner of the ZGW Notificaties API's
//! abonnementen. A service account subscribes only to what it may read: each filtered service needs
//! `events:read:<service>`, no service filter needs `events:read:*`. A service account sees and
//! manages its own subscriptions; administrators, all. The secret is shown once, on creation.
//!
//! Deliveries (one per subscription and event) are listed with their attempts; the dead-lettered
//! ones (`?state=dead`) can be replayed.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::delivery::Filter;
use persistence::outbox::{self as store, AttemptRow, DeliveryRow, SubscriptionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::outbox::signature;
use crate::state::AppState;

/// The longest callback URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// The most values one filter list may hold.
pub const MAX_FILTER_VALUES: usize = 50;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "callback_url": "https://monitoring.example.kz/hooks/family",
    "filter": {"kinds": ["application.approve", "application.refuse"], "service_keys": ["free_school_meals"]}
}))]
pub struct SubscriptionInput {
    /// Where webhooks are POSTed: `http(s)://host[:port]/path`, no user name or password. Exactly one
    /// of `callback_url` and `nats_subject`.
    #[schema(max_length = 2048, example = "https://monitoring.example.kz/hooks/family")]
    pub callback_url: Option<String>,
    /// The NATS JetStream subject messages are published to (`kz.events.family`): tokens of letters,
    /// digits, `-` and `_` separated by dots, no wildcards.
    #[schema(max_length = 255, example = "kz.events.family")]
    pub nats_subject: Option<String>,
    /// Which events; an empty or missing list means any.
    #[serde(default)]
    pub filter: Option<FilterInput>,
    /// The signing secret (`whsec_` and the base64 of 16 to 64 bytes); generated when missing.
    #[schema(max_length = 100)]
    pub secret: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterInput {
    /// Event kinds (`application.approve`), or prefixes ending in `*` (`application.*`).
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub service_keys: Vec<String>,
    #[serde(default)]
    pub providers: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    /// `webhook` or `nats`.
    #[schema(example = "webhook")]
    pub transport: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_subject: Option<String>,
    pub filter: FilterView,
    /// Who created it (an administrator's `sub` or a service account's client id).
    pub owner: String,
    pub created_at: DateTime<Utc>,
    /// The signing secret: only in the answer to the creation, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilterView {
    pub kinds: Vec<String>,
    pub service_keys: Vec<String>,
    pub providers: Vec<String>,
}

impl SubscriptionView {
    fn of(row: SubscriptionRow, with_secret: bool) -> Result<SubscriptionView, ApiError> {
        let f = row.filter()?;
        let webhook = row.transport == "webhook";
        Ok(SubscriptionView {
            id: row.id,
            transport: row.transport,
            callback_url: webhook.then(|| row.target.clone()),
            nats_subject: (!webhook).then(|| row.target.clone()),
            filter: FilterView { kinds: f.kinds, service_keys: f.service_keys, providers: f.providers },
            owner: row.owner_sub,
            created_at: row.created_at.and_utc(),
            secret: (with_secret && webhook).then_some(row.secret),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i64,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// `delivered`, `failed` (retried) or `dead`.
    pub outcome: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub subscription_id: String,
    /// The event, and the message's id (`webhook-id`, CloudEvents `id`, `Nats-Msg-Id`).
    pub event_id: i64,
    /// `pending`, `delivered`, `dead` (dead-lettered: replay it) or `cancelled`.
    #[schema(example = "delivered")]
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub dead_at: Option<DateTime<Utc>>,
    pub attempt_log: Vec<AttemptView>,
}

impl DeliveryView {
    fn of(d: DeliveryRow, attempts: &[AttemptRow]) -> DeliveryView {
        DeliveryView {
            attempt_log: attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    at: a.at.and_utc(),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error.clone(),
                    outcome: a.outcome.clone(),
                })
                .collect(),
            next_attempt_at: (d.state == store::state::PENDING).then(|| d.next_attempt_at.and_utc()),
            id: d.id,
            subscription_id: d.subscription_id,
            event_id: d.event_id,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            delivered_at: d.delivered_at.map(|t| t.and_utc()),
            dead_at: d.dead_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only deliveries in this state; `dead` lists the dead letters.
    #[param(pattern = "^(pending|delivered|dead|cancelled)$", max_length = 16)]
    pub state: Option<String>,
    /// Only deliveries of events before this one (the `next_before` of the previous page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// 403 unless an administrator, or a service account with `subscriptions:manage`. The owner filter
/// for what the caller may see: a service account's own subscriptions only.
fn manager(who: &Principal) -> Result<Option<String>, ApiError> {
    who.require(&[Role::Admin, Role::System])?;
    who.require_scope("subscriptions:manage")?;
    Ok((who.role == Role::System).then(|| who.sub.clone()))
}

fn plain(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'*'))
}

/// A callback URL fit to be called: http or https, a host, no credentials or fragment, and not an
/// address the server may not call (loopback, private, link-local, ... unless allowed; names are
/// checked again on every delivery, when they resolve).
fn check_url(url: &str, addresses: &domain::delivery::AddressPolicy) -> Result<(), FieldError> {
    let bad = |m: &str| FieldError::new("callback_url", "url", m);
    if url.len() > MAX_URL_LEN {
        return Err(bad(&format!("must be at most {MAX_URL_LEN} characters")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("must name a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(FieldError::new(
            "callback_url",
            "no_credentials",
            "must not carry a user name or password: messages are authenticated by their signature",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    if let Some(why) = crate::outbox::literal_host_refusal(&parsed, addresses) {
        return Err(FieldError::new(
            "callback_url",
            "address_not_allowed",
            format!("is {why}: webhooks go to public addresses and the networks this server allows"),
        ));
    }
    Ok(())
}

fn check_subject(subject: &str) -> Result<(), FieldError> {
    let ok = subject.len() <= 255
        && subject
            .split('.')
            .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "nats_subject",
            "subject",
            "must be dot-separated tokens of letters, digits, `-` and `_`, at most 255 characters, no wildcards",
        ))
    }
}

fn check_filter(f: &FilterInput, catalog: &domain::catalog::Catalog) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, list, max) in
        [("kinds", &f.kinds, 64), ("service_keys", &f.service_keys, 64), ("providers", &f.providers, 64)]
    {
        if list.len() > MAX_FILTER_VALUES {
            errors.push(FieldError::new(
                format!("filter.{name}"),
                "max_items",
                format!("at most {MAX_FILTER_VALUES} values"),
            ));
        }
        for (i, v) in list.iter().enumerate() {
            let wildcard_ok = name == "kinds" && v.find('*').is_none_or(|at| at == v.len() - 1);
            if !plain(v, max) || (v.contains('*') && !wildcard_ok) {
                errors.push(FieldError::new(
                    format!("filter.{name}[{i}]"),
                    "format",
                    "letters, digits, `_`, `-` and `.` (kinds may end in `*`), 1 to 64 characters",
                ));
            }
        }
    }
    for (i, k) in f.service_keys.iter().enumerate() {
        if catalog.service(k).is_none() {
            errors.push(FieldError::new(
                format!("filter.service_keys[{i}]"),
                "unknown_service",
                format!("no service `{k}`"),
            ));
        }
    }
    errors
}

/// Subscribe a webhook or a NATS subject to events.
#[utoipa::path(
    tag = "subscriptions", operation_id = "createSubscription",
    request_body = SubscriptionInput,
    responses(
        (status = 201, description = "The subscription, with its secret (shown only now)", body = SubscriptionView),
        (status = 403, description = "Not an administrator, or a service account without `subscriptions:manage` or \
without `events:read` for a filtered service (the scope is named)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, each field and rule named: `callback_url` (`one_of`: exactly one of it and \
`nats_subject`; `url`, `no_credentials`, `address_not_allowed`: a loopback, private, link-local or other special \
address outside `DELIVERY_ALLOWED_NETWORKS`), `nats_subject` (`subject`, `nats_not_configured`), `filter.*` (`format`, `unknown_service`), `secret` (`format`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/subscriptions")]
pub async fn create_subscription(
    state: web::Data<AppState>,
    cfg: web::Data<crate::outbox::Config>,
    who: Principal,
    body: ValidJson<SubscriptionInput>,
) -> Result<HttpResponse, ApiError> {
    manager(&who)?;
    let input = body.0;
    let filter = input.filter.unwrap_or_default();
    let mut errors = check_filter(&filter, &state.catalog());
    let (transport, target) = match (&input.callback_url, &input.nats_subject) {
        (Some(url), None) => {
            if let Err(e) = check_url(url, &cfg.addresses) {
                errors.push(e);
            }
            ("webhook", url.clone())
        }
        (None, Some(subject)) => {
            if let Err(e) = check_subject(subject) {
                errors.push(e);
            }
            if !cfg.nats {
                errors.push(FieldError::new(
                    "nats_subject",
                    "nats_not_configured",
                    "this server has no NATS_URL configured",
                ));
            }
            ("nats", subject.clone())
        }
        _ => {
            errors.push(FieldError::new(
                "callback_url",
                "one_of",
                "give exactly one of `callback_url` and `nats_subject`",
            ));
            ("webhook", String::new())
        }
    };
    let secret = match (&input.secret, transport) {
        (_, "nats") => String::new(),
        (Some(s), _) if signature::key_of(s).is_some() => s.clone(),
        (Some(_), _) => {
            errors.push(FieldError::new("secret", "format", "must be `whsec_` and the base64 of 16 to 64 bytes"));
            String::new()
        }
        (None, _) => signature::new_secret(),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // A service account is told only about what it may read.
    if who.role == Role::System {
        if filter.service_keys.is_empty() {
            who.require_scope("events:read:*")?;
        }
        for k in &filter.service_keys {
            who.require_scope(&format!("events:read:{k}"))?;
        }
    }
    let filter = Filter { kinds: filter.kinds, service_keys: filter.service_keys, providers: filter.providers };
    let row = SubscriptionRow {
        id: uuid::Uuid::now_v7().to_string(),
        owner_sub: who.sub.clone(),
        owner_role: who.role.code().to_string(),
        transport: transport.into(),
        target,
        secret,
        filter: serde_json::to_string(&filter).expect("a filter serialises"),
        created_at: state.clock.now().naive_utc(),
        deleted_at: None,
    };
    let stored = row.clone();
    web::block(move || state.db.write(|c| store::insert_subscription(c, &stored))).await??;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/subscriptions/{}", row.id)))
        .json(SubscriptionView::of(row, true)?))
}

/// The subscriptions the caller manages (a service account's own; an administrator's, all).
#[utoipa::path(
    tag = "subscriptions", operation_id = "listSubscriptions",
    responses((status = 200, description = "Live subscriptions, oldest first; secrets are never shown", body = Vec<SubscriptionView>)),
    security(("bearer" = [])),
)]
#[get("/subscriptions")]
pub async fn list_subscriptions(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    let owner = manager(&who)?;
    let rows = web::block(move || state.db.read(|c| store::list_subscriptions(c, owner.as_deref()))).await??;
    let views = rows.into_iter().map(|r| SubscriptionView::of(r, false)).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(views))
}

fn id_ok(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 36 || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(ApiError::not_found("no such subscription"));
    }
    Ok(())
}

/// One subscription.
#[utoipa::path(
    tag = "subscriptions", operation_id = "getSubscription",
    params(("id" = String, Path, description = "Subscription id", max_length = 36)),
    responses(
        (status = 200, description = "The subscription (without its secret)", body = SubscriptionView),
        (status = 404, description = "No such subscription among the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/subscriptions/{id}")]
pub async fn get_subscription(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = manager(&who)?;
    let id = id.into_inner();
    id_ok(&id)?;
    let row = web::block(move || state.db.read(|c| store::find_subscription(c, &id, owner.as_deref())))
        .await??
        .ok_or_else(|| ApiError::not_found("no such subscription"))?;
    Ok(HttpResponse::Ok().json(SubscriptionView::of(row, false)?))
}

/// End a subscription: no more messages; its pending deliveries are cancelled.
#[utoipa::path(
    tag = "subscriptions", operation_id = "deleteSubscription",
    params(("id" = String, Path, description = "Subscription id", max_length = 36)),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such subscription among the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[delete("/subscriptions/{id}")]
pub async fn delete_subscription(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = manager(&who)?;
    let id = id.into_inner();
    id_ok(&id)?;
    let now = state.clock.now().naive_utc();
    web::block(move || {
        state.db.write_with(|c| -> Result<(), ApiError> {
            store::find_subscription(c, &id, owner.as_deref())?
                .ok_or_else(|| ApiError::not_found("no such subscription"))?;
            Ok(store::delete_subscription(c, &id, now)?)
        })
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// A subscription's deliveries with every attempt (status, latency, error), newest event first;
/// `?state=dead` lists the dead letters.
#[utoipa::path(
    tag = "subscriptions", operation_id = "listDeliveries",
    params(("id" = String, Path, description = "Subscription id", max_length = 36), DeliveriesQuery),
    responses(
        (status = 200, description = "Deliveries, newest event first", body = DeliveryPage),
        (status = 404, description = "No such subscription among the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/subscriptions/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    q: ValidQuery<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = manager(&who)?;
    let id = id.into_inner();
    id_ok(&id)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("query.limit", "range", "must be between 1 and 200"));
    }
    if q.before.is_some_and(|b| b < 1) {
        return Err(ApiError::field("query.before", "range", "must be 1 or more"));
    }
    let in_state = q.state.clone();
    if let Some(s) = &in_state {
        if ![store::state::PENDING, store::state::DELIVERED, store::state::DEAD, store::state::CANCELLED]
            .contains(&s.as_str())
        {
            return Err(ApiError::field("query.state", "enum", "must be pending, delivered, dead or cancelled"));
        }
    }
    let before = q.before;
    let (rows, attempts) = web::block(move || {
        state.db.read(|c| {
            if store::find_subscription(c, &id, owner.as_deref())?.is_none() {
                return Ok(None);
            }
            let rows = store::deliveries_of(c, &id, in_state.as_deref(), before, limit + 1)?;
            let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
            let attempts = store::attempts_of(c, &ids)?;
            Ok(Some((rows, attempts)))
        })
    })
    .await??
    .ok_or_else(|| ApiError::not_found("no such subscription"))?;
    let more = rows.len() as i64 > limit;
    let items: Vec<DeliveryView> =
        rows.into_iter().take(limit as usize).map(|d| DeliveryView::of(d, &attempts)).collect();
    let next_before = if more { items.last().map(|d| d.event_id) } else { None };
    Ok(HttpResponse::Ok().json(DeliveryPage { items, next_before }))
}

/// Send a dead-lettered (or already delivered) message again, with the same id, in a new retry window.
#[utoipa::path(
    tag = "subscriptions", operation_id = "replayDelivery",
    params(
        ("id" = String, Path, description = "Subscription id", max_length = 36),
        ("delivery_id" = String, Path, description = "Delivery id", max_length = 36),
    ),
    responses(
        (status = 202, description = "Pending again, due now", body = DeliveryView),
        (status = 404, description = "No such delivery of the caller's subscription", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery is still pending (or cancelled)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/subscriptions/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay_delivery(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let owner = manager(&who)?;
    let (id, delivery_id) = path.into_inner();
    id_ok(&id)?;
    id_ok(&delivery_id).map_err(|_| ApiError::not_found("no such delivery"))?;
    let now = state.clock.now().naive_utc();
    let (row, attempts) = web::block(move || {
        state.db.write_with(|c| -> Result<_, ApiError> {
            store::find_subscription(c, &id, owner.as_deref())?
                .ok_or_else(|| ApiError::not_found("no such subscription"))?;
            let d =
                store::find_delivery(c, &id, &delivery_id)?.ok_or_else(|| ApiError::not_found("no such delivery"))?;
            if d.state != store::state::DEAD && d.state != store::state::DELIVERED {
                return Err(ApiError::Conflict {
                    code: "delivery_not_replayable",
                    detail: format!("the delivery is {}; only dead or delivered ones are replayed", d.state),
                    state: Some(d.state),
                    allowed_actions: None,
                });
            }
            store::replay(c, &d.id, now)?;
            let d = store::find_delivery(c, &id, &delivery_id)?.ok_or(persistence::StoreError::NotFound)?;
            let attempts = store::attempts_of(c, std::slice::from_ref(&d.id))?;
            Ok((d, attempts))
        })
    })
    .await??;
    Ok(HttpResponse::Accepted().json(DeliveryView::of(row, &attempts)))
}
