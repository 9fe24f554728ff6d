//! The preschool queue's procedure between the routes and the store: placing a child in the queue when
//! its application is approved, offering free places to the head of the queue, expiring unused
//! referrals, and the applicant's and the preschool's moves. The rules are `domain::queue`; each
//! function here runs inside the caller's transaction, so a move, its history entry (on the
//! application that placed the child), event, notification and signed document commit together.

use chrono::{DateTime, NaiveDate, Utc};
use domain::application::{Application, Change, DocumentKind, Event, HistoryRecord, Official};
use domain::calendar::BusinessCalendar;
use domain::queue::{self, EntryState, Move, QueueEntry, RegistrationFacts};
use persistence::queue as store;
use persistence::DbConnection;
use serde_json::{json, Value};

use crate::documents::Signer;
use crate::error::ApiError;
use crate::procedure::concurrent;

/// Days since 1970-01-01 of a local date: the unit monitoring sums waiting times in.
pub fn epoch_day(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")).num_days()
}

fn today(cal: &BusinessCalendar, now: DateTime<Utc>) -> NaiveDate {
    domain::application::timing::local_date(cal, now)
}

/// At filing: the child the form names, under 7, not already holding a place in the queue it would
/// join (the approval checks again, under the queue's lock, for filings still pending).
pub fn check_intake(c: &mut DbConnection, provider_id: &str, form: &Value, on: NaiveDate) -> Result<(), ApiError> {
    let child = queue::child_of(form, on)?;
    let key = queue::queue_for(provider_id, &child);
    match store::holder_in_queue(c, &key, child.as_str())? {
        Some(number) => Err(queue::already_in_queue(&key, number).into()),
        None => Ok(()),
    }
}

/// Stores the approval of a queue service's application with what it does to the queue, in the
/// caller's transaction: the child placed in the queue (its row locked, so numbers and positions stay
/// consistent under concurrent registrations), the signed registration slip (queue, number, date,
/// position at issue), and the application's change with its history entry, event and notice.
pub fn register_on_approval(
    c: &mut DbConnection,
    signer: &Signer,
    cal: &BusinessCalendar,
    mut change: Change,
) -> Result<Application, ApiError> {
    let now = change.history.at;
    let on = today(cal, now);
    let app = change.application.clone();
    let child = queue::child_of(&app.form, on)?;
    let key = queue::queue_of(&app, &child);
    let queue_id = store::lock_queue(c, &key, now)?;
    // Checked after the lock: a concurrent registration of the same child has committed or waits.
    let already = store::holder_in_queue(c, &key, child.as_str())?;
    let categories = store::categories(c)?;
    let new =
        queue::registration(&app, RegistrationFacts { categories: &categories, already_in_queue: already }, on, now)?;
    let entry = store::insert_entry(c, &queue_id, &new, &app, epoch_day(on)).map_err(|e| match e {
        persistence::StoreError::Conflict(_) => ApiError::from(
            domain::violation::Violation::field(
                "form.child_iin",
                "already_in_queue",
                "the child already holds a place in this queue",
            )
            .citing(queue::basis::ONE_PER_QUEUE),
        ),
        other => other.into(),
    })?;
    let body = change.document.take().map(|(_, b)| b).unwrap_or_else(|| json!({}));
    let slip = queue::slip(&entry, body);
    let by = (change.history.actor.sub.as_str(), change.history.actor.role.code());
    let doc = crate::documents::issue(c, signer, &app, DocumentKind::QueueRegistrationSlip, slip, by, now)?;
    store::set_slip(c, &entry.id, &doc.id)?;
    let summary = json!({"id": entry.id, "territory": key.territory, "birth_year": key.birth_year,
        "number": entry.number, "position": entry.position_at_issue, "registered_at": entry.registered_at});
    change.history.changes["document"] = json!({"old": null, "new": {"id": doc.id, "kind": DocumentKind::QueueRegistrationSlip.code(), "sha256": doc.sha256}});
    change.history.changes["queue_entry"] = json!({"old": null, "new": summary});
    change.event.payload["queue_entry"] = summary;
    change.notice = Some(queue::slip_notice(&entry));
    persistence::applications::save(c, &change).map_err(concurrent("application"))?;
    Ok(change.application)
}

/// Records one move of an entry: the entry (optimistically), and on the application that placed the
/// child its history entry (`extra` merged into its changes), event and notification.
fn record_move(
    c: &mut DbConnection,
    cal: &BusinessCalendar,
    entry: &QueueEntry,
    mv: Move,
    actor: &Official,
    now: DateTime<Utc>,
    extra: Value,
) -> Result<QueueEntry, ApiError> {
    let change = queue::apply(entry, mv, actor, now)?;
    // The waiting time ends when the child stops waiting (a place offered, or withdrawn).
    let waited = (entry.state == EntryState::Waiting)
        .then(|| store::registered_day(c, &entry.id).map(|d| epoch_day(today(cal, now)) - d))
        .transpose()?;
    store::update_entry(c, &change.entry, waited).map_err(concurrent("queue entry"))?;
    let app = persistence::applications::find(c, &entry.application_id)?
        .ok_or_else(|| ApiError::Internal(format!("queue entry {} has no application", entry.id)))?;
    let mut changes = change.changes;
    if let (Some(m), Some(x)) = (changes.as_object_mut(), extra.as_object()) {
        m.extend(x.clone());
    }
    let history = HistoryRecord {
        action: change.action,
        actor: actor.clone(),
        at: now,
        from_status: Some(app.status),
        to_status: app.status,
        reason: change.reason,
        changes,
    };
    let mut payload = change.event_payload;
    payload["registration_number"] = json!(app.registration_number);
    let event = Event { kind: change.event_kind, payload };
    persistence::applications::record(c, &app, &history, &event, Some(&change.notice))
        .map_err(concurrent("application"))?;
    Ok(change.entry)
}

/// A referral issued by [`offer_free_places`].
#[derive(Debug, Clone)]
pub struct Offered {
    pub entry: QueueEntry,
    pub referral_id: String,
    pub place_id: String,
    pub preschool_id: String,
    pub valid_until: DateTime<Utc>,
    pub document_id: String,
}

/// Offers each free place of the queue to the head of the queue in turn, with the queue's row locked:
/// two places never go to one child (the head stops waiting as it is offered one) and one place never
/// to two children (the place stops being free as it is offered). Each offer is a signed referral
/// valid for the referral term in force.
pub fn offer_free_places(
    c: &mut DbConnection,
    signer: &Signer,
    cal: &BusinessCalendar,
    queue_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Offered>, ApiError> {
    store::lock_queue_id(c, queue_id)?;
    let terms = store::referral_terms(c)?;
    let mut out = Vec::new();
    loop {
        let Some((place_id, preschool_id)) = store::free_place(c, queue_id)? else { break };
        let Some(head) = store::head_of_queue(c, queue_id)? else { break };
        let term = queue::term_in_force(&terms, today(cal, now)).ok_or_else(|| domain::violation::Violation::NotNow {
            rule: "referral_term_not_recorded",
            detail: "no referral term is in force: an administrator records it from the act in force (POST /api/v1/preschool/referral-terms)".into(),
            state: "no_referral_term".into(),
            allowed: vec![],
            basis: Some(queue::basis::REFERRAL_TERM),
        })?;
        let valid_until = queue::referral_valid_until(cal, now, term);
        let referral_id = uuid::Uuid::now_v7().to_string();
        store::move_place(c, &place_id, store::PLACE_FREE, store::PLACE_OFFERED)?;
        store::insert_referral(
            c,
            &store::ReferralRow {
                id: referral_id.clone(),
                place_id: place_id.clone(),
                entry_id: head.id.clone(),
                queue_id: queue_id.into(),
                issued_at: now.naive_utc(),
                valid_until: valid_until.naive_utc(),
                state: store::REFERRAL_ISSUED.into(),
                closed_at: None,
                document_id: None,
            },
        )
        .map_err(concurrent("queue"))?;
        let app = persistence::applications::find(c, &head.application_id)?
            .ok_or_else(|| ApiError::Internal(format!("queue entry {} has no application", head.id)))?;
        let body = json!({
            "result": queue::REFERRAL_RESULT,
            "referral_id": referral_id,
            "preschool": preschool_id,
            "place_id": place_id,
            "queue": {"territory": head.queue.territory, "birth_year": head.queue.birth_year},
            "entry_number": head.number,
            "child_iin": head.child_iin,
            "valid_until": valid_until,
            "referral_term": {"valid_days": term.valid_days, "unit": "calendar_days", "source": term.source},
        });
        let doc =
            crate::documents::issue(c, signer, &app, DocumentKind::PreschoolReferral, body, ("system", "system"), now)?;
        store::set_referral_document(c, &referral_id, &doc.id)?;
        let mv = Move::Offer { place_id: place_id.clone(), preschool_id: preschool_id.clone(), valid_until };
        let extra = json!({"document": {"old": null, "new": {"id": doc.id, "kind": DocumentKind::PreschoolReferral.code(), "sha256": doc.sha256}},
            "referral_id": referral_id});
        let entry = record_move(c, cal, &head, mv, &Official::system(), now, extra)?;
        out.push(Offered { entry, referral_id, place_id, preschool_id, valid_until, document_id: doc.id });
    }
    Ok(out)
}

/// Expires every issued referral whose term ended before `now` (of one queue, or of all), returns
/// their places to the free ones and offers them to the next children. Queues are locked in the order
/// of their ids, and every other writer locks a single queue, so no two transactions wait on each
/// other in a cycle. Returns the entries expired and the new offers.
pub fn expire_lapsed(
    c: &mut DbConnection,
    signer: &Signer,
    cal: &BusinessCalendar,
    queue: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Vec<QueueEntry>, Vec<Offered>), ApiError> {
    let lapsed = store::lapsed_referrals(c, queue, now, 1000)?;
    let mut queues: Vec<String> = lapsed.iter().map(|r| r.queue_id.clone()).collect();
    queues.dedup();
    for q in &queues {
        store::lock_queue_id(c, q)?;
    }
    let mut expired = Vec::new();
    // Read again under the locks: a referral used or declined meanwhile is no longer lapsed.
    for q in &queues {
        for r in store::lapsed_referrals(c, Some(q), now, 1000)? {
            let entry = store::find_entry(c, &r.entry_id)?
                .ok_or_else(|| ApiError::Internal(format!("referral {} has no entry", r.id)))?;
            store::close_referral(c, &r.id, EntryState::Expired.code(), now)?;
            store::move_place(c, &r.place_id, store::PLACE_OFFERED, store::PLACE_FREE)?;
            let extra = json!({"referral_id": r.id, "place_id": r.place_id});
            expired.push(record_move(
                c,
                cal,
                &entry,
                Move::Expire { valid_until: r.valid_until.and_utc() },
                &Official::system(),
                now,
                extra,
            )?);
        }
    }
    let mut offers = Vec::new();
    for q in &queues {
        offers.extend(offer_free_places(c, signer, cal, q, now)?);
    }
    Ok((expired, offers))
}

/// The applicant declines the referral or withdraws the child: the entry moves, an open referral
/// closes and its place goes to the next child at once.
pub fn leave(
    c: &mut DbConnection,
    signer: &Signer,
    cal: &BusinessCalendar,
    entry: &QueueEntry,
    mv: Move,
    actor: &Official,
    now: DateTime<Utc>,
) -> Result<(QueueEntry, Vec<Offered>), ApiError> {
    store::lock_queue_id(c, &entry.queue_id)?;
    let entry = store::find_entry(c, &entry.id)?.ok_or_else(|| ApiError::not_found("no such queue entry"))?;
    let state = match mv {
        Move::Decline { .. } => EntryState::Declined,
        _ => EntryState::Withdrawn,
    };
    let open = store::open_referral(c, &entry.id)?;
    let extra = open.as_ref().map_or(json!({}), |r| json!({"referral_id": r.id, "place_id": r.place_id}));
    let moved = record_move(c, cal, &entry, mv, actor, now, extra)?;
    let mut offers = Vec::new();
    if let Some(r) = open {
        store::close_referral(c, &r.id, state.code(), now)?;
        store::move_place(c, &r.place_id, store::PLACE_OFFERED, store::PLACE_FREE)?;
        offers = offer_free_places(c, signer, cal, &entry.queue_id, now)?;
    }
    Ok((moved, offers))
}

/// The preschool organisation records that the referral was used: the child is enrolled and the
/// place taken. Only the staff of the preschool the referral names may (others: 404).
pub fn enrol(
    c: &mut DbConnection,
    cal: &BusinessCalendar,
    entry_id: &str,
    actor: &Official,
    org: &str,
    now: DateTime<Utc>,
) -> Result<QueueEntry, ApiError> {
    let entry = store::find_entry(c, entry_id)?.ok_or_else(|| ApiError::not_found("no such queue entry"))?;
    store::lock_queue_id(c, &entry.queue_id)?;
    let referrals = store::referrals_of(c, &entry.id)?;
    let last = referrals.last().ok_or_else(|| ApiError::not_found("no such queue entry"))?;
    if store::place_preschool(c, &last.place_id)? != org {
        return Err(ApiError::not_found("no such queue entry"));
    }
    let mv = Move::Enrol { valid_until: last.valid_until.and_utc() };
    let extra = json!({"referral_id": last.id, "place_id": last.place_id});
    let moved = record_move(c, cal, &entry, mv, actor, now, extra)?;
    store::close_referral(c, &last.id, store::REFERRAL_USED, now)?;
    store::move_place(c, &last.place_id, store::PLACE_OFFERED, store::PLACE_TAKEN)?;
    Ok(moved)
}
