//! `/api/v1/events`: the feed integrators read to follow every change, in order, without polling each
//! application. Events carry little (ids, status, version): read the application for details, with the
//! caller's own rights.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Position in the feed; pass the last one seen as `after`.
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// `application.<action>`: `application.submit`, `application.accept`, `application.refuse`, ...
    #[schema(example = "application.accept")]
    pub kind: String,
    pub application_id: String,
    pub provider_id: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventView>,
    /// The position to pass as `after` next time (the last item's id, or `after` if none).
    pub next_after: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events after this position (default 0: from the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Read the event feed in order. Provider staff see their organisation's events; the review body and
/// administrators see all; a service account sees the events of the services its `events:read:<service>`
/// scopes name (`events:read:*`: all).
#[utoipa::path(
    tag = "events", operation_id = "listEvents",
    params(EventsQuery),
    responses((status = 200, description = "Events after the position, oldest first", body = EventPage)),
    security(("bearer" = [])),
)]
#[get("/events")]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head, Role::Reviewer, Role::Admin, Role::System])?;
    let services = who.scoped_services("events:read");
    if services.as_ref().is_some_and(Vec::is_empty) {
        who.require_scope("events:read:*")?;
    }
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(100);
    if after < 0 {
        return Err(ApiError::field("query.after", "range", "must be 0 or more"));
    }
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("query.limit", "range", "must be between 1 and 500"));
    }
    let provider = matches!(who.role, Role::Employee | Role::Head).then(|| who.org().to_string());
    let rows = web::block(move || {
        state.db.read(|c| persistence::events::after(c, after, provider.as_deref(), services.as_deref(), limit))
    })
    .await??;
    let next_after = rows.last().map_or(after, |r| r.id);
    let items = rows
        .into_iter()
        .map(|r| EventView {
            id: r.id,
            occurred_at: r.occurred_at.and_utc(),
            kind: r.kind,
            application_id: r.application_id,
            provider_id: r.provider_id,
            payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(HttpResponse::Ok().json(EventPage { items, next_after }))
}
