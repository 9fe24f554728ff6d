//! The outbox (issue 12): subscriptions, one delivery per (subscription, event), and the attempts made.
//!
//! The events table is the outbox. [`fan_out`] runs inside the transaction that writes an event and
//! adds a pending delivery for every live subscription whose filter matches it, so a change and the
//! promise to tell each subscriber about it commit together. The worker of every instance then
//! [`claim`]s due deliveries: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two instances never
//! take the same one, and with a lease (`claimed_until`), so the deliveries of an instance that died
//! mid-way become due again once it lapses. SQLite has one writer at a time (and the process write
//! lock in [`crate::db`]), so the same `UPDATE ... RETURNING` without row locks is just as exclusive.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::delivery::Filter;

use crate::events::{EventRow, NewEvent};
use crate::schema::{deliveries, delivery_attempts, events, subscriptions};
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = subscriptions)]
pub struct SubscriptionRow {
    pub id: String,
    pub owner_sub: String,
    pub owner_role: String,
    /// `webhook` or `nats`.
    pub transport: String,
    /// The callback URL or the JetStream subject.
    pub target: String,
    pub secret: String,
    /// JSON: [`Filter`].
    pub filter: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl SubscriptionRow {
    pub fn filter(&self) -> Result<Filter, StoreError> {
        parse_filter(&self.id, &self.filter)
    }
}

fn parse_filter(subscription_id: &str, filter: &str) -> Result<Filter, StoreError> {
    serde_json::from_str(filter)
        .map_err(|e| StoreError::Corrupt(format!("subscription {subscription_id}: filter: {e}")))
}

/// The states of a delivery.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const DELIVERED: &str = "delivered";
    pub const DEAD: &str = "dead";
    /// Its subscription was deleted before it was delivered.
    pub const CANCELLED: &str = "cancelled";
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub subscription_id: String,
    pub event_id: i64,
    pub state: String,
    pub attempts: i64,
    pub created_at: NaiveDateTime,
    pub window_start: Option<NaiveDateTime>,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub claimed_by: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub dead_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = delivery_attempts)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: String,
    pub attempt: i64,
    pub at: NaiveDateTime,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub outcome: String,
    pub instance: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = delivery_attempts)]
pub struct NewAttempt {
    pub delivery_id: String,
    pub attempt: i64,
    pub at: NaiveDateTime,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub outcome: String,
    pub instance: String,
}

pub fn insert_subscription(conn: &mut DbConnection, row: &SubscriptionRow) -> Result<(), StoreError> {
    diesel::insert_into(subscriptions::table).values(row).execute(conn)?;
    Ok(())
}

/// A live subscription, only if `owner` (when given) created it.
pub fn find_subscription(
    conn: &mut DbConnection,
    id: &str,
    owner: Option<&str>,
) -> Result<Option<SubscriptionRow>, StoreError> {
    let mut q = subscriptions::table
        .filter(subscriptions::id.eq(id.to_string()))
        .filter(subscriptions::deleted_at.is_null())
        .into_boxed();
    if let Some(o) = owner {
        q = q.filter(subscriptions::owner_sub.eq(o.to_string()));
    }
    Ok(q.select(SubscriptionRow::as_select()).first(conn).optional()?)
}

/// Live subscriptions, oldest first, only `owner`'s when given.
pub fn list_subscriptions(conn: &mut DbConnection, owner: Option<&str>) -> Result<Vec<SubscriptionRow>, StoreError> {
    let mut q = subscriptions::table.filter(subscriptions::deleted_at.is_null()).into_boxed();
    if let Some(o) = owner {
        q = q.filter(subscriptions::owner_sub.eq(o.to_string()));
    }
    Ok(q.order(subscriptions::created_at.asc())
        .then_order_by(subscriptions::id.asc())
        .select(SubscriptionRow::as_select())
        .load(conn)?)
}

/// Ends a subscription: nothing more is fanned out to it and its pending deliveries are cancelled.
pub fn delete_subscription(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(subscriptions::table.filter(subscriptions::id.eq(id.to_string())))
        .set(subscriptions::deleted_at.eq(Some(now)))
        .execute(conn)?;
    diesel::update(
        deliveries::table
            .filter(deliveries::subscription_id.eq(id.to_string()))
            .filter(deliveries::state.eq(state::PENDING)),
    )
    .set((deliveries::state.eq(state::CANCELLED), deliveries::claimed_until.eq(None::<NaiveDateTime>)))
    .execute(conn)?;
    Ok(())
}

/// Adds a pending delivery of event `event_id` for every live subscription whose filter matches it, in
/// the transaction that writes the event. Due at once (the event's own time).
pub fn fan_out(conn: &mut DbConnection, event_id: i64, event: &NewEvent) -> Result<usize, StoreError> {
    let subs: Vec<SubscriptionRow> = subscriptions::table
        .filter(subscriptions::deleted_at.is_null())
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    fan_out_to(conn, event_id, event, subs.into_iter().map(|s| (s.id, s.filter)))
}

/// [`fan_out`] over live subscriptions already read, as `(id, filter JSON)`: every change on PostgreSQL
/// reads them in the statement that writes the event ([`crate::together`]).
pub fn fan_out_to(
    conn: &mut DbConnection,
    event_id: i64,
    event: &NewEvent,
    live: impl IntoIterator<Item = (String, String)>,
) -> Result<usize, StoreError> {
    let mut n = 0;
    for (subscription_id, filter) in live {
        if !parse_filter(&subscription_id, &filter)?.matches(
            &event.kind,
            event.service_key.as_deref(),
            &event.provider_id,
        ) {
            continue;
        }
        let row = DeliveryRow {
            id: uuid::Uuid::now_v7().to_string(),
            subscription_id,
            event_id,
            state: state::PENDING.into(),
            attempts: 0,
            created_at: event.occurred_at,
            window_start: None,
            next_attempt_at: event.occurred_at,
            claimed_until: None,
            claimed_by: None,
            last_status: None,
            last_error: None,
            delivered_at: None,
            dead_at: None,
        };
        diesel::insert_into(deliveries::table).values(&row).execute(conn)?;
        n += 1;
    }
    Ok(n)
}

/// A delivery taken by an instance, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub event: EventRow,
    pub subscription: SubscriptionRow,
    /// The event's application's service and registration number, for events written before the
    /// event carried its service (NULL there).
    pub service_key: Option<String>,
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Whether any delivery is due at `now`: a read, so that idle instances poll without taking the write
/// lock (SQLite) or row locks (PostgreSQL).
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<bool, StoreError> {
    let found: Option<String> = deliveries::table
        .filter(deliveries::state.eq(state::PENDING))
        .filter(deliveries::next_attempt_at.le(now))
        .filter(deliveries::claimed_until.is_null().or(deliveries::claimed_until.lt(now)))
        .select(deliveries::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Takes up to `limit` due deliveries for `instance` until `lease_until` (call in a write
/// transaction). Due: pending, `next_attempt_at` reached, and not held by a lease that still runs.
pub fn claim(
    conn: &mut DbConnection,
    instance: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    let pg = matches!(conn, DbConnection::Postgresql(_));
    // The outer condition is checked again on the locked row (PostgreSQL re-evaluates it after a wait),
    // so even without SKIP LOCKED a delivery is never claimed twice.
    let due =
        "d.state = 'pending' AND d.next_attempt_at <= {now} AND (d.claimed_until IS NULL OR d.claimed_until < {now})";
    let sql = if pg {
        format!(
            "UPDATE deliveries SET claimed_until = $1, claimed_by = $2 WHERE id IN (\
             SELECT d.id FROM deliveries d WHERE {} ORDER BY d.next_attempt_at, d.event_id LIMIT $4 \
             FOR UPDATE SKIP LOCKED) AND {} RETURNING id",
            due.replace("{now}", "$3"),
            due.replace("d.", "deliveries.").replace("{now}", "$3"),
        )
    } else {
        format!(
            "UPDATE deliveries SET claimed_until = ?1, claimed_by = ?2 WHERE id IN (\
             SELECT d.id FROM deliveries d WHERE {} ORDER BY d.next_attempt_at, d.event_id LIMIT ?4) RETURNING id",
            due.replace("{now}", "?3"),
        )
    };
    let ids: Vec<ClaimedId> = diesel::sql_query(sql)
        .into_boxed::<crate::db::MultiBackend>()
        .bind::<Timestamp, _>(lease_until)
        .bind::<Text, _>(instance.to_string())
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.into_iter().map(|r| r.id).collect();
    let rows: Vec<(DeliveryRow, EventRow, SubscriptionRow)> = deliveries::table
        .inner_join(events::table)
        .inner_join(subscriptions::table)
        .filter(deliveries::id.eq_any(ids))
        .order((deliveries::next_attempt_at.asc(), deliveries::event_id.asc()))
        .select((DeliveryRow::as_select(), EventRow::as_select(), SubscriptionRow::as_select()))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (delivery, event, subscription) in rows {
        // A filing that read the subscription just before its deletion committed left a pending
        // delivery behind: the owner deleted it, so it is cancelled, not sent.
        if subscription.deleted_at.is_some() {
            diesel::update(deliveries::table.filter(deliveries::id.eq(&delivery.id)))
                .set((deliveries::state.eq(state::CANCELLED), deliveries::claimed_until.eq(None::<NaiveDateTime>)))
                .execute(conn)?;
            continue;
        }
        let service_key = match &event.service_key {
            Some(k) => Some(k.clone()),
            None => crate::schema::applications::table
                .filter(crate::schema::applications::id.eq(&event.application_id))
                .select(crate::schema::applications::service_key)
                .first::<String>(conn)
                .optional()?,
        };
        out.push(Claimed { delivery, event, subscription, service_key });
    }
    Ok(out)
}

/// What an attempt decided about its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    RetryAt(NaiveDateTime),
    Dead,
}

/// Records an attempt and its outcome, in one transaction, if `instance` still holds the delivery's
/// lease (else another instance took it over after the lease lapsed, and its result counts). Returns
/// whether it was recorded.
pub fn record_attempt(
    conn: &mut DbConnection,
    attempt: &NewAttempt,
    window_start: NaiveDateTime,
    outcome: Outcome,
) -> Result<bool, StoreError> {
    let target = deliveries::table
        .filter(deliveries::id.eq(&attempt.delivery_id))
        .filter(deliveries::state.eq(state::PENDING))
        .filter(deliveries::claimed_by.eq(&attempt.instance));
    let common = (
        deliveries::attempts.eq(deliveries::attempts + 1),
        deliveries::window_start.eq(Some(window_start)),
        deliveries::claimed_until.eq(None::<NaiveDateTime>),
        deliveries::last_status.eq(attempt.status_code),
        deliveries::last_error.eq(attempt.error.clone()),
    );
    let n = match outcome {
        Outcome::Delivered => diesel::update(target)
            .set((common, deliveries::state.eq(state::DELIVERED), deliveries::delivered_at.eq(Some(attempt.at))))
            .execute(conn)?,
        Outcome::RetryAt(at) => {
            diesel::update(target).set((common, deliveries::next_attempt_at.eq(at))).execute(conn)?
        }
        Outcome::Dead => diesel::update(target)
            .set((common, deliveries::state.eq(state::DEAD), deliveries::dead_at.eq(Some(attempt.at))))
            .execute(conn)?,
    };
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(delivery_attempts::table).values(attempt).execute(conn)?;
    Ok(true)
}

/// A subscription's deliveries, newest event first, optionally in one state, after the cursor (an
/// event id) of the previous page.
pub fn deliveries_of(
    conn: &mut DbConnection,
    subscription_id: &str,
    in_state: Option<&str>,
    before_event: Option<i64>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let mut q = deliveries::table.filter(deliveries::subscription_id.eq(subscription_id.to_string())).into_boxed();
    if let Some(s) = in_state {
        q = q.filter(deliveries::state.eq(s.to_string()));
    }
    if let Some(b) = before_event {
        q = q.filter(deliveries::event_id.lt(b));
    }
    Ok(q.order(deliveries::event_id.desc()).limit(limit).select(DeliveryRow::as_select()).load(conn)?)
}

/// The attempts of these deliveries, oldest first.
pub fn attempts_of(conn: &mut DbConnection, delivery_ids: &[String]) -> Result<Vec<AttemptRow>, StoreError> {
    Ok(delivery_attempts::table
        .filter(delivery_attempts::delivery_id.eq_any(delivery_ids.to_vec()))
        .order(delivery_attempts::id.asc())
        .select(AttemptRow::as_select())
        .load(conn)?)
}

pub fn find_delivery(
    conn: &mut DbConnection,
    subscription_id: &str,
    id: &str,
) -> Result<Option<DeliveryRow>, StoreError> {
    Ok(deliveries::table
        .filter(deliveries::id.eq(id.to_string()))
        .filter(deliveries::subscription_id.eq(subscription_id.to_string()))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Sends a dead (or delivered) delivery again: pending, due `now`, with a new retry window. The
/// message keeps its id, so a receiver that saw it already recognises it.
pub fn replay(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    let n = diesel::update(
        deliveries::table
            .filter(deliveries::id.eq(id.to_string()))
            .filter(deliveries::state.eq_any([state::DEAD, state::DELIVERED])),
    )
    .set((
        deliveries::state.eq(state::PENDING),
        deliveries::next_attempt_at.eq(now),
        deliveries::window_start.eq(None::<NaiveDateTime>),
        deliveries::claimed_until.eq(None::<NaiveDateTime>),
        deliveries::claimed_by.eq(None::<String>),
        deliveries::dead_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("delivery {id} is not dead or delivered")));
    }
    Ok(())
}

/// Removes, with their attempt logs, at most `limit` deliveries that are done with: delivered
/// before `before`, or cancelled (their subscription deleted) and created before it. Dead letters
/// stay until replayed: they are the operator's to look at. Returns how many were removed. In the
/// caller's transaction.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime, limit: i64) -> Result<usize, StoreError> {
    let done: Vec<String> = deliveries::table
        .filter(
            deliveries::state
                .eq(state::DELIVERED)
                .and(deliveries::delivered_at.lt(before))
                .or(deliveries::state.eq(state::CANCELLED).and(deliveries::created_at.lt(before))),
        )
        .order(deliveries::id.asc())
        .limit(limit)
        .select(deliveries::id)
        .load(conn)?;
    if done.is_empty() {
        return Ok(0);
    }
    diesel::delete(delivery_attempts::table.filter(delivery_attempts::delivery_id.eq_any(&done))).execute(conn)?;
    Ok(diesel::delete(deliveries::table.filter(deliveries::id.eq_any(&done))).execute(conn)?)
}
