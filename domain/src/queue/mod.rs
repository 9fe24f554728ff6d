//! The preschool queue (мектепке дейінгі ұйымға кезек): a queue per territory and year of birth, the
//! children placed in it in the order of their registration (after any priority category), the places
//! preschool organisations free, and the referrals (жолдама) offered to the head of the queue.
//!
//! Pure: the caller loads the entry, the categories and the referral term, and stores what each
//! function returns (the entry as it is after the move, its history entry, event and notice).
//!
//! What the seeds say and do not say. Resolution No 351 of 2012 (seed 003) names the result: a referral
//! to a preschool organisation, or a notification (registration slip, талон) that the child is in the
//! queue (003:192-196, 003:764-773). It gives no ordering rule, no priority categories and no validity
//! of a referral. Those come from the act in force, an **outside source** not in the seeds (the Rules of
//! the state service «Постановка на очередь детей дошкольного возраста (до 7 лет) для направления в
//! детские дошкольные организации», order of the Minister of Education No 172 of 19 May 2020 in its
//! current wording): administrators record them as data citing that source
//! ([`PriorityCategory::source`], [`ReferralTerm::source`]); nothing of them is built in here.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::application::notices::Notice;
use crate::application::{Actor, Application, Official};
use crate::calendar::BusinessCalendar;
use crate::identity::Iin;
use crate::passport::{Passport, TermUnit};
use crate::text::Text;
use crate::violation::Violation;

/// Where the rules below are stated.
pub mod basis {
    /// The result of the service: the referral or the registration slip.
    pub const RESULT: &str = "resolution No 351 of 2012 (003:192-196; Appendix 4, 003:764-773): the result is a referral to a preschool organisation, or a notification (registration slip) that the child is in the queue";
    /// The service's children: preschool age, under 7.
    pub const UNDER_SEVEN: &str =
        "resolution No 351 of 2012, paragraph 1 (003:68-70): children of preschool age (under 7)";
    /// One child, one place per queue.
    pub const ONE_PER_QUEUE: &str = "a child holds one place in a queue: a second registration for the same child and queue would count the child twice (issue 13; the act in force, an outside source, registers a child once)";
    /// The order of the queue.
    pub const ORDER: &str = "the queue is ordered by the moment of registration (003 gives no other rule); priority categories, when an administrator records them, come first, each citing the act in force (an outside source)";
    /// The referral term.
    pub const REFERRAL_TERM: &str = "the validity of a referral is not in the seeds (003); it is the term an administrator records from the act in force (an outside source)";
    /// The child's identity.
    pub const CHILD: &str = "resolution No 351 of 2012 names only the recipient's IIN (003:167-172; the child's data are in the Standard, not in the seeds): the form must name the child (`child_iin`)";
    pub const MOVES: &str =
        "the queue's state table: waiting → offered → enrolled | declined | expired; waiting | offered → withdrawn";
}

/// The result code of the registration slip, and of the referral, in a passport that has them.
pub const SLIP_RESULT: &str = "queue_notification";
pub const REFERRAL_RESULT: &str = "referral";

/// The rank of a child in no priority category: after every category an administrator records.
pub const GENERAL_RANK: i32 = 1_000_000;

/// Whether a passport version runs a queue: it produces the registration slip. Any version does,
/// the shipped one of 2012 on a date it was in force or one an administrator publishes.
pub fn is_queue_service(p: &Passport) -> bool {
    p.results.iter().any(|r| r.code == SLIP_RESULT)
}

/// A queue: a territory (the provider that keeps it) and a year of birth (the age group).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueueKey {
    pub territory: String,
    pub birth_year: i32,
}

/// Where a child stands in a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// In line for a place.
    Waiting,
    /// A place was offered: the referral is valid until its term ends.
    Offered,
    /// The referral was used: the child is enrolled.
    Enrolled,
    /// The applicant declined the referral.
    Declined,
    /// The applicant withdrew the child from the queue.
    Withdrawn,
    /// The referral's term ended unused.
    Expired,
}

impl EntryState {
    pub const ALL: [EntryState; 6] = [
        EntryState::Waiting,
        EntryState::Offered,
        EntryState::Enrolled,
        EntryState::Declined,
        EntryState::Withdrawn,
        EntryState::Expired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EntryState::Waiting => "waiting",
            EntryState::Offered => "offered",
            EntryState::Enrolled => "enrolled",
            EntryState::Declined => "declined",
            EntryState::Withdrawn => "withdrawn",
            EntryState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<EntryState> {
        Self::ALL.into_iter().find(|x| x.code() == s)
    }

    /// The child holds its place in the queue (the states the unique index covers).
    pub fn holds_place(self) -> bool {
        matches!(self, EntryState::Waiting | EntryState::Offered | EntryState::Enrolled)
    }

    pub fn is_final(self) -> bool {
        !matches!(self, EntryState::Waiting | EntryState::Offered)
    }

    pub fn text(self) -> Text {
        match self {
            EntryState::Waiting => Text::new("кезекте", "в очереди", "waiting in the queue"),
            EntryState::Offered => Text::new("жолдама берілді", "выдано направление", "referral issued"),
            EntryState::Enrolled => Text::new("ұйымға қабылданды", "зачислен в организацию", "enrolled"),
            EntryState::Declined => Text::new("жолдамадан бас тартты", "отказ от направления", "referral declined"),
            EntryState::Withdrawn => Text::new("кезектен шығарылды", "снят с очереди", "withdrawn from the queue"),
            EntryState::Expired => {
                Text::new("жолдаманың мерзімі өтті", "срок направления истёк", "referral expired unused")
            }
        }
    }
}

/// A priority category (басымдық санаты), as an administrator records it from the act in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityCategory {
    pub code: String,
    /// Lower is served first; a child in no category has [`GENERAL_RANK`].
    pub rank: i32,
    pub name: Text,
    /// The provision it comes from: an outside source, since the seeds give no ordering rules.
    pub source: String,
}

/// How long a referral stays valid, in calendar days, from a date on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralTerm {
    pub effective_from: NaiveDate,
    pub valid_days: u32,
    pub source: String,
}

/// The term in force on `on`: the latest that took effect on or before it.
pub fn term_in_force(terms: &[ReferralTerm], on: NaiveDate) -> Option<&ReferralTerm> {
    terms.iter().filter(|t| t.effective_from <= on).max_by_key(|t| t.effective_from)
}

/// The end of a referral issued at `issued_at`: 18:30 Astana time of the last of its calendar days
/// (moved to the next working day when that is a day off), the same end as every day term of the
/// procedure ([`crate::deadline::due`]).
pub fn referral_valid_until(cal: &BusinessCalendar, issued_at: DateTime<Utc>, term: &ReferralTerm) -> DateTime<Utc> {
    crate::deadline::due(cal, issued_at, term.valid_days, TermUnit::CalendarDays).due_at
}

/// A child placed in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: String,
    pub queue_id: String,
    pub queue: QueueKey,
    /// The number in the queue, from 1, in the order of registration.
    pub number: i64,
    pub application_id: String,
    pub applicant_iin: String,
    pub child_iin: String,
    pub category: Option<String>,
    pub rank: i32,
    pub registered_at: DateTime<Utc>,
    pub state: EntryState,
    pub position_at_issue: i64,
    /// When it stopped waiting (offered or withdrawn).
    pub waiting_until: Option<DateTime<Utc>>,
    /// When it reached a final state.
    pub left_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// The order of a queue: priority rank, then the moment of registration, then the entry number (two
/// registrations in the same instant keep the order of their numbers).
pub fn order_key(rank: i32, registered_at: DateTime<Utc>, number: i64) -> (i32, DateTime<Utc>, i64) {
    (rank, registered_at, number)
}

impl QueueEntry {
    pub fn order_key(&self) -> (i32, DateTime<Utc>, i64) {
        order_key(self.rank, self.registered_at, self.number)
    }
}

/// The position of `entry` among the entries of its queue: 1 + the waiting entries before it; `None`
/// once it no longer waits. (The store computes the same count in SQL over the queue's order index.)
pub fn position(entry: &QueueEntry, queue: &[QueueEntry]) -> Option<i64> {
    (entry.state == EntryState::Waiting).then(|| {
        1 + queue
            .iter()
            .filter(|e| e.id != entry.id && e.state == EntryState::Waiting && e.order_key() < entry.order_key())
            .count() as i64
    })
}

/// The child an application places in the queue, with its queue and category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub queue: QueueKey,
    pub child_iin: String,
    pub category: Option<String>,
    pub rank: i32,
    pub registered_at: DateTime<Utc>,
}

/// What the store knows that registration needs: the categories recorded, and whether the child
/// already holds a place in the queue.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationFacts<'a> {
    pub categories: &'a [PriorityCategory],
    /// The number of the entry the child already holds in that queue, if any.
    pub already_in_queue: Option<i64>,
}

/// The child of the form: `child_iin`, checked, and under 7 on `on`.
pub fn child_of(form: &Value, on: NaiveDate) -> Result<Iin, Violation> {
    let Some(raw) = form.get("child_iin").and_then(|v| v.as_str()) else {
        return Err(Violation::field(
            "form.child_iin",
            "child_not_identified",
            "the form names no child (`child_iin`)",
        )
        .citing(basis::CHILD));
    };
    let iin = Iin::parse(raw).map_err(|e| {
        Violation::field("form.child_iin", e.code(), format!("not a valid IIN: {e}")).citing(basis::CHILD)
    })?;
    if iin.birth_date() > on || iin.age_on(on) >= 7 {
        return Err(Violation::field(
            "form.child_iin",
            "not_preschool_age",
            format!("the child was born on {}: the service is for children under 7 on {on}", iin.birth_date()),
        )
        .citing(basis::UNDER_SEVEN));
    }
    Ok(iin)
}

/// The queue an application places its child in: the territory is the provider that keeps it (a
/// district education department or an akim's office, each serving its territory, 003:68-72), the age
/// group the child's year of birth. Refused when the child already holds a place in it.
pub fn registration(
    app: &Application,
    facts: RegistrationFacts<'_>,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<NewEntry, Violation> {
    let child = child_of(&app.form, on)?;
    let queue = queue_of(app, &child);
    if let Some(number) = facts.already_in_queue {
        return Err(already_in_queue(&queue, number));
    }
    let (category, rank) = match app.form.get("priority_category").and_then(|v| v.as_str()) {
        None => (None, GENERAL_RANK),
        Some(code) => match facts.categories.iter().find(|c| c.code == code) {
            Some(c) => (Some(c.code.clone()), c.rank),
            None => {
                return Err(Violation::field(
                    "form.priority_category",
                    "not_a_priority_category",
                    format!("`{code}` is not a priority category an administrator recorded"),
                )
                .citing(basis::ORDER))
            }
        },
    };
    Ok(NewEntry { queue, child_iin: child.as_str().to_string(), category, rank, registered_at: now })
}

/// The queue of an application's child (for the duplicate check before [`registration`]).
pub fn queue_of(app: &Application, child: &Iin) -> QueueKey {
    queue_for(&app.provider_id, child)
}

/// The queue a child filed with `provider_id` goes to.
pub fn queue_for(provider_id: &str, child: &Iin) -> QueueKey {
    QueueKey { territory: provider_id.to_string(), birth_year: chrono::Datelike::year(&child.birth_date()) }
}

/// The refusal of a second place for the same child in the same queue, naming the place it holds.
pub fn already_in_queue(queue: &QueueKey, number: i64) -> Violation {
    Violation::field(
        "form.child_iin",
        "already_in_queue",
        format!(
            "the child already holds place No {number} in the queue of {} for children born in {}",
            queue.territory, queue.birth_year
        ),
    )
    .citing(basis::ONE_PER_QUEUE)
}

/// The result an approval of a queue service issues: the registration slip. The referral is issued
/// when a place frees ([`Move::Offer`]), never by an approval.
pub fn approval_result(requested: Option<&str>) -> Result<&'static str, Violation> {
    match requested {
        None | Some(SLIP_RESULT) => Ok(SLIP_RESULT),
        Some(REFERRAL_RESULT) => Err(Violation::field(
            "result_code",
            "referral_through_places",
            "the approval places the child in the queue (registration slip); the referral is issued when a place frees",
        )
        .citing(basis::RESULT)),
        Some(other) => Err(Violation::field(
            "result_code",
            "not_a_queue_result",
            format!("`{other}`: the approval of a queue service issues the registration slip"),
        )
        .citing(basis::RESULT)),
    }
}

/// The registration slip's body (талон): queue, number, date, position at issue.
pub fn slip(entry: &QueueEntry, decision: Value) -> Value {
    let mut body = decision;
    body["queue"] = json!({"territory": entry.queue.territory, "birth_year": entry.queue.birth_year});
    body["queue_entry_id"] = json!(entry.id);
    body["entry_number"] = json!(entry.number);
    body["registered_at"] = json!(entry.registered_at);
    body["position"] = json!(entry.position_at_issue);
    body["child_iin"] = json!(entry.child_iin);
    if let Some(c) = &entry.category {
        body["priority_category"] = json!(c);
    }
    body
}

/// The notice of the registration.
pub fn slip_notice(entry: &QueueEntry) -> Notice {
    let (n, p, y, t) = (entry.number, entry.position_at_issue, entry.queue.birth_year, &entry.queue.territory);
    Notice {
        kind: "queue.registered".into(),
        texts: [
            format!("Бала кезекке қойылды ({t}, {y} жылы туғандар): № {n}, кезектегі орны {p}."),
            format!("Ребёнок поставлен в очередь ({t}, {y} года рождения): № {n}, место в очереди {p}."),
            format!("The child was placed in the queue ({t}, born in {y}): No {n}, position {p}."),
        ],
    }
}

/// A move of an entry in its queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Move {
    /// A free place is offered to the head of the queue, with a referral valid until `valid_until`.
    Offer { place_id: String, preschool_id: String, valid_until: DateTime<Utc> },
    /// The referral's term ended unused.
    Expire { valid_until: DateTime<Utc> },
    /// The applicant declines the referral.
    Decline { reason: Option<String> },
    /// The applicant withdraws the child from the queue.
    Withdraw { reason: Option<String> },
    /// The preschool organisation records that the referral was used.
    Enrol { valid_until: DateTime<Utc> },
}

impl Move {
    pub fn code(&self) -> &'static str {
        match self {
            Move::Offer { .. } => "offered",
            Move::Expire { .. } => "expired",
            Move::Decline { .. } => "declined",
            Move::Withdraw { .. } => "withdrawn",
            Move::Enrol { .. } => "enrolled",
        }
    }

    fn target(&self) -> EntryState {
        match self {
            Move::Offer { .. } => EntryState::Offered,
            Move::Expire { .. } => EntryState::Expired,
            Move::Decline { .. } => EntryState::Declined,
            Move::Withdraw { .. } => EntryState::Withdrawn,
            Move::Enrol { .. } => EntryState::Enrolled,
        }
    }
}

/// What one move changes: the entry after it, and the history entry (on the application that placed
/// the child), event and notice that go with it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueChange {
    pub entry: QueueEntry,
    /// `queue.offered`, `queue.expired`, ...
    pub action: String,
    pub reason: Option<String>,
    pub changes: Value,
    pub event_kind: String,
    pub event_payload: Value,
    pub notice: Notice,
}

/// Runs one move on `entry`, or says which rule forbids it.
pub fn apply(entry: &QueueEntry, mv: Move, actor: &Official, now: DateTime<Utc>) -> Result<QueueChange, Violation> {
    let allowed_from: &[EntryState] = match &mv {
        Move::Offer { .. } => &[EntryState::Waiting],
        Move::Expire { .. } | Move::Decline { .. } | Move::Enrol { .. } => &[EntryState::Offered],
        Move::Withdraw { .. } => &[EntryState::Waiting, EntryState::Offered],
    };
    let actors: &[Actor] = match &mv {
        Move::Offer { .. } | Move::Expire { .. } => &[Actor::System, Actor::Employee, Actor::Head, Actor::Admin],
        Move::Decline { .. } | Move::Withdraw { .. } => &[Actor::Applicant],
        Move::Enrol { .. } => &[Actor::Employee, Actor::Head],
    };
    if !actors.contains(&actor.role) {
        return Err(Violation::NotForThisActor {
            detail: format!("your role may not record `{}` in the queue", mv.code()),
            basis: Some(basis::MOVES),
        });
    }
    if !allowed_from.contains(&entry.state) {
        return Err(Violation::NotNow {
            rule: "queue_move_not_allowed",
            detail: format!("`{}` is not possible while the entry is `{}`", mv.code(), entry.state.code()),
            state: entry.state.code().into(),
            allowed: allowed_moves(entry.state).iter().map(|s| s.to_string()).collect(),
            basis: Some(basis::MOVES),
        });
    }
    match &mv {
        Move::Expire { valid_until } if now <= *valid_until => {
            return Err(Violation::NotNow {
                rule: "referral_still_valid",
                detail: format!("the referral is valid until {valid_until}"),
                state: entry.state.code().into(),
                allowed: vec![],
                basis: Some(basis::REFERRAL_TERM),
            })
        }
        Move::Enrol { valid_until } if now > *valid_until => {
            return Err(Violation::NotNow {
                rule: "referral_expired",
                detail: format!("the referral was valid until {valid_until}"),
                state: entry.state.code().into(),
                allowed: vec![],
                basis: Some(basis::REFERRAL_TERM),
            })
        }
        Move::Offer { valid_until, .. } if *valid_until <= now => {
            return Err(Violation::field("valid_until", "after_issue", "a referral is valid after it is issued")
                .citing(basis::REFERRAL_TERM))
        }
        _ => {}
    }
    let to = mv.target();
    let mut next = entry.clone();
    next.state = to;
    next.version += 1;
    if entry.state == EntryState::Waiting {
        next.waiting_until = Some(now);
    }
    if to.is_final() {
        next.left_at = Some(now);
    }
    let mut changes = json!({"queue_entry": {"id": entry.id, "number": entry.number,
        "state": {"old": entry.state, "new": to}}});
    let reason = match &mv {
        Move::Offer { place_id, preschool_id, valid_until } => {
            changes["referral"] =
                json!({"place_id": place_id, "preschool_id": preschool_id, "valid_until": valid_until});
            None
        }
        Move::Expire { valid_until } | Move::Enrol { valid_until } => {
            changes["referral"] = json!({"valid_until": valid_until});
            None
        }
        Move::Decline { reason } | Move::Withdraw { reason } => reason.clone(),
    };
    let payload = json!({
        "queue_entry_id": entry.id,
        "queue": {"territory": entry.queue.territory, "birth_year": entry.queue.birth_year},
        "entry_number": entry.number,
        "state": to,
        "version": next.version,
        "referral": changes.get("referral").cloned().unwrap_or(Value::Null),
    });
    Ok(QueueChange {
        notice: move_notice(&next, &mv),
        action: format!("queue.{}", mv.code()),
        reason,
        changes,
        event_kind: format!("queue_entry.{}", mv.code()),
        event_payload: payload,
        entry: next,
    })
}

/// The moves possible from a state, for the 409's `allowed_actions`.
pub fn allowed_moves(state: EntryState) -> &'static [&'static str] {
    match state {
        EntryState::Waiting => &["offer", "withdraw"],
        EntryState::Offered => &["enrol", "decline", "withdraw", "expire"],
        _ => &[],
    }
}

fn move_notice(entry: &QueueEntry, mv: &Move) -> Notice {
    let n = entry.number;
    let (kk, ru, en) = match mv {
        Move::Offer { preschool_id, valid_until, .. } => {
            let until = valid_until.format("%Y-%m-%d %H:%M UTC");
            (
                format!("№ {n} кезек: {preschool_id} ұйымына жолдама берілді, {until} дейін жарамды."),
                format!("Очередь № {n}: выдано направление в организацию {preschool_id}, действительно до {until}."),
                format!("Queue No {n}: a referral to {preschool_id} was issued, valid until {until}."),
            )
        }
        _ => {
            let t = entry.state.text();
            (
                format!("№ {n} кезек: {}.", t.resolve(crate::text::Lang::Kk)),
                format!("Очередь № {n}: {}.", t.resolve(crate::text::Lang::Ru)),
                format!("Queue No {n}: {}.", t.resolve(crate::text::Lang::En)),
            )
        }
    };
    Notice { kind: format!("queue.{}", mv.code()), texts: [kk, ru, en] }
}

#[cfg(test)]
mod tests;
