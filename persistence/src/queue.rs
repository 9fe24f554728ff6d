//! The preschool queue: queues, entries, priority categories, referral terms, preschool organisations,
//! their free places and the referrals issued for them. Rows are converted here into the domain's
//! [`QueueEntry`]; states are never strings above this module.
//!
//! Concurrency. Every write that changes a queue's order (a registration, an offer, an expiry, a
//! withdrawal) first locks the queue's row ([`lock_queue`]: `SELECT ... FOR UPDATE` on PostgreSQL; on
//! SQLite the database's single writer already serialises them), so numbers, positions and offers in
//! one queue move one transaction at a time, while different queues never wait for each other. The
//! partial unique indexes of the migration are the last guard: one child holds one place per queue,
//! one place goes to one child, one child holds one referral.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::queue::{EntryState, NewEntry, PriorityCategory, QueueEntry, QueueKey, ReferralTerm};
use domain::text::Text;

use crate::schema::{
    preschool_places, preschools, queue_entries, queue_priority_categories, queue_referral_terms, queues, referrals,
};
use crate::{savepoint, DbConnection, StoreError};

fn utc(d: NaiveDateTime) -> DateTime<Utc> {
    d.and_utc()
}

/// The states in which a child holds its place (the unique index's predicate).
fn holding() -> Vec<&'static str> {
    EntryState::ALL.into_iter().filter(|s| s.holds_place()).map(|s| s.code()).collect()
}

// ---------------------------------------------------------------------------------------------
// Administrators' data: categories, referral terms, preschools
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = queue_priority_categories)]
struct CategoryRow {
    code: String,
    priority_rank: i32,
    name_kk: String,
    name_ru: String,
    name_en: String,
    source: String,
    updated_by: String,
    updated_at: NaiveDateTime,
}

pub fn categories(conn: &mut DbConnection) -> Result<Vec<PriorityCategory>, StoreError> {
    let rows: Vec<CategoryRow> = queue_priority_categories::table
        .order((queue_priority_categories::priority_rank.asc(), queue_priority_categories::code.asc()))
        .select(CategoryRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| PriorityCategory {
            code: r.code,
            rank: r.priority_rank,
            name: Text { kk: Some(r.name_kk), ru: Some(r.name_ru), en: Some(r.name_en) },
            source: r.source,
        })
        .collect())
}

/// Records a category, or replaces it (entries keep the rank they were registered with).
pub fn put_category(
    conn: &mut DbConnection,
    c: &PriorityCategory,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let name = |s: &Option<String>| s.clone().unwrap_or_default();
    let row = CategoryRow {
        code: c.code.clone(),
        priority_rank: c.rank,
        name_kk: name(&c.name.kk),
        name_ru: name(&c.name.ru),
        name_en: name(&c.name.en),
        source: c.source.clone(),
        updated_by: by.into(),
        updated_at: at.naive_utc(),
    };
    let n = diesel::update(queue_priority_categories::table.filter(queue_priority_categories::code.eq(&c.code)))
        .set(&row)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(queue_priority_categories::table).values(&row).execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = queue_referral_terms)]
struct TermRow {
    id: String,
    effective_from: NaiveDate,
    valid_days: i32,
    source: String,
    recorded_by: String,
    recorded_at: NaiveDateTime,
}

pub fn referral_terms(conn: &mut DbConnection) -> Result<Vec<ReferralTerm>, StoreError> {
    let rows: Vec<TermRow> = queue_referral_terms::table
        .order(queue_referral_terms::effective_from.asc())
        .select(TermRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ReferralTerm {
            effective_from: r.effective_from,
            valid_days: r.valid_days.max(0) as u32,
            source: r.source,
        })
        .collect())
}

/// Appends a referral term (terms are never rewritten: a referral issued under one keeps it).
pub fn add_referral_term(
    conn: &mut DbConnection,
    t: &ReferralTerm,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(queue_referral_terms::table)
        .values(TermRow {
            id: uuid::Uuid::now_v7().to_string(),
            effective_from: t.effective_from,
            valid_days: t.valid_days as i32,
            source: t.source.clone(),
            recorded_by: by.into(),
            recorded_at: at.naive_utc(),
        })
        .execute(conn)?;
    Ok(())
}

/// Records (or moves) a preschool organisation and the territory whose queues its places serve.
pub fn put_preschool(
    conn: &mut DbConnection,
    org_id: &str,
    territory: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = diesel::update(preschools::table.filter(preschools::org_id.eq(org_id)))
        .set((
            preschools::territory.eq(territory),
            preschools::recorded_by.eq(by),
            preschools::recorded_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(preschools::table)
            .values((
                preschools::org_id.eq(org_id),
                preschools::territory.eq(territory),
                preschools::recorded_by.eq(by),
                preschools::recorded_at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The territory a preschool organisation serves, if it is recorded as one.
pub fn preschool_territory(conn: &mut DbConnection, org_id: &str) -> Result<Option<String>, StoreError> {
    Ok(preschools::table.filter(preschools::org_id.eq(org_id)).select(preschools::territory).first(conn).optional()?)
}

// ---------------------------------------------------------------------------------------------
// Queues and entries
// ---------------------------------------------------------------------------------------------

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    id: String,
}

/// The queue's id, creating the queue on its first registration, with its row locked until the
/// caller's transaction ends (PostgreSQL `FOR UPDATE`; SQLite has one writer at a time).
pub fn lock_queue(conn: &mut DbConnection, key: &QueueKey, now: DateTime<Utc>) -> Result<String, StoreError> {
    let find = |c: &mut DbConnection| -> Result<Option<String>, StoreError> {
        Ok(queues::table
            .filter(queues::territory.eq(&key.territory))
            .filter(queues::birth_year.eq(key.birth_year))
            .select(queues::id)
            .first(c)
            .optional()?)
    };
    let id = match find(conn)? {
        Some(id) => id,
        None => {
            let id = uuid::Uuid::now_v7().to_string();
            let created = savepoint(conn, |c| {
                diesel::insert_into(queues::table)
                    .values((
                        queues::id.eq(&id),
                        queues::territory.eq(&key.territory),
                        queues::birth_year.eq(key.birth_year),
                        queues::next_number.eq(0i64),
                        queues::created_at.eq(now.naive_utc()),
                    ))
                    .execute(c)
                    .map_err(StoreError::from)
            });
            match created {
                Ok(_) => id,
                // Another transaction created it first: its row is the queue (and the lock waits for it).
                Err(StoreError::Conflict(_)) => find(conn)?.ok_or(StoreError::NotFound)?,
                Err(e) => return Err(e),
            }
        }
    };
    lock_queue_id(conn, &id)?;
    Ok(id)
}

/// Locks an existing queue's row until the caller's transaction ends.
pub fn lock_queue_id(conn: &mut DbConnection, queue_id: &str) -> Result<(), StoreError> {
    if matches!(conn, DbConnection::Postgresql(_)) {
        let _: Vec<Locked> = diesel::sql_query("SELECT id FROM queues WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(queue_id)
            .load(conn)?;
    }
    Ok(())
}

/// The queue of `key`, if it exists.
pub fn queue_id(conn: &mut DbConnection, key: &QueueKey) -> Result<Option<String>, StoreError> {
    Ok(queues::table
        .filter(queues::territory.eq(&key.territory))
        .filter(queues::birth_year.eq(key.birth_year))
        .select(queues::id)
        .first(conn)
        .optional()?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = queue_entries)]
struct EntryRow {
    id: String,
    queue_id: String,
    entry_number: i64,
    application_id: String,
    applicant_iin: String,
    child_iin: String,
    category_code: Option<String>,
    priority_rank: i32,
    registered_at: NaiveDateTime,
    registered_day: i64,
    state: String,
    position_at_issue: i64,
    waiting_until: Option<NaiveDateTime>,
    left_at: Option<NaiveDateTime>,
    waited_days: Option<i64>,
    slip_document_id: Option<String>,
    row_version: i64,
}

impl EntryRow {
    fn into_domain(self, territory: String, birth_year: i32) -> Result<QueueEntry, StoreError> {
        let state = EntryState::parse(&self.state)
            .ok_or_else(|| StoreError::Corrupt(format!("queue entry {}: state `{}`", self.id, self.state)))?;
        Ok(QueueEntry {
            id: self.id,
            queue_id: self.queue_id,
            queue: QueueKey { territory, birth_year },
            number: self.entry_number,
            application_id: self.application_id,
            applicant_iin: self.applicant_iin,
            child_iin: self.child_iin,
            category: self.category_code,
            rank: self.priority_rank,
            registered_at: utc(self.registered_at),
            state,
            position_at_issue: self.position_at_issue,
            waiting_until: self.waiting_until.map(utc),
            left_at: self.left_at.map(utc),
            version: self.row_version,
        })
    }
}

type Joined = (EntryRow, (String, i32));

fn load(rows: Vec<Joined>) -> Result<Vec<QueueEntry>, StoreError> {
    rows.into_iter().map(|(r, (t, y))| r.into_domain(t, y)).collect()
}

macro_rules! joined {
    () => {
        queue_entries::table
            .inner_join(queues::table)
            .select((EntryRow::as_select(), (queues::territory, queues::birth_year)))
    };
}

/// The number of the entry by which the child holds a place in the queue, if any.
pub fn holder_in_queue(conn: &mut DbConnection, key: &QueueKey, child_iin: &str) -> Result<Option<i64>, StoreError> {
    let Some(q) = queue_id(conn, key)? else { return Ok(None) };
    Ok(queue_entries::table
        .filter(queue_entries::queue_id.eq(q))
        .filter(queue_entries::child_iin.eq(child_iin))
        .filter(queue_entries::state.eq_any(holding()))
        .select(queue_entries::entry_number)
        .first(conn)
        .optional()?)
}

/// Places a child in a queue whose row the caller locked ([`lock_queue`]): the next number, the
/// position among the waiting, the entry. A second place of the same child breaks the unique index
/// ([`StoreError::Conflict`]).
pub fn insert_entry(
    conn: &mut DbConnection,
    queue_id: &str,
    new: &NewEntry,
    app: &domain::application::Application,
    registered_day: i64,
) -> Result<QueueEntry, StoreError> {
    diesel::update(queues::table.filter(queues::id.eq(queue_id)))
        .set(queues::next_number.eq(queues::next_number + 1))
        .execute(conn)?;
    let number: i64 = queues::table.filter(queues::id.eq(queue_id)).select(queues::next_number).first(conn)?;
    let ahead = waiting_ahead(conn, queue_id, new.rank, new.registered_at, number)?;
    let row = EntryRow {
        id: uuid::Uuid::now_v7().to_string(),
        queue_id: queue_id.into(),
        entry_number: number,
        application_id: app.id.clone(),
        applicant_iin: app.applicant_iin.clone(),
        child_iin: new.child_iin.clone(),
        category_code: new.category.clone(),
        priority_rank: new.rank,
        registered_at: new.registered_at.naive_utc(),
        registered_day,
        state: EntryState::Waiting.code().into(),
        position_at_issue: ahead + 1,
        waiting_until: None,
        left_at: None,
        waited_days: None,
        slip_document_id: None,
        row_version: 1,
    };
    diesel::insert_into(queue_entries::table).values(&row).execute(conn)?;
    row.into_domain(new.queue.territory.clone(), new.queue.birth_year)
}

/// The waiting entries of a queue before the order key `(rank, registered_at, number)`: the queue's
/// order, counted over its index.
fn waiting_ahead(
    conn: &mut DbConnection,
    queue_id: &str,
    rank: i32,
    at: DateTime<Utc>,
    number: i64,
) -> Result<i64, StoreError> {
    let at = at.naive_utc();
    Ok(queue_entries::table
        .filter(queue_entries::queue_id.eq(queue_id))
        .filter(queue_entries::state.eq(EntryState::Waiting.code()))
        .filter(
            queue_entries::priority_rank.lt(rank).or(queue_entries::priority_rank.eq(rank).and(
                queue_entries::registered_at
                    .lt(at)
                    .or(queue_entries::registered_at.eq(at).and(queue_entries::entry_number.lt(number))),
            )),
        )
        .count()
        .get_result(conn)?)
}

/// The current position of a waiting entry (1 = the head of the queue); `None` once it no longer waits.
pub fn position(conn: &mut DbConnection, e: &QueueEntry) -> Result<Option<i64>, StoreError> {
    if e.state != EntryState::Waiting {
        return Ok(None);
    }
    Ok(Some(waiting_ahead(conn, &e.queue_id, e.rank, e.registered_at, e.number)? + 1))
}

pub fn set_slip(conn: &mut DbConnection, entry_id: &str, document_id: &str) -> Result<(), StoreError> {
    diesel::update(queue_entries::table.filter(queue_entries::id.eq(entry_id)))
        .set(queue_entries::slip_document_id.eq(document_id))
        .execute(conn)?;
    Ok(())
}

/// The slip's document id.
pub fn slip_of(conn: &mut DbConnection, entry_id: &str) -> Result<Option<String>, StoreError> {
    Ok(queue_entries::table
        .filter(queue_entries::id.eq(entry_id))
        .select(queue_entries::slip_document_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Writes a moved entry if nobody moved it since it was read (its row still at `version - 1`), with
/// its waiting time in days when it just stopped waiting.
pub fn update_entry(conn: &mut DbConnection, e: &QueueEntry, waited_days: Option<i64>) -> Result<(), StoreError> {
    let n = diesel::update(
        queue_entries::table.filter(queue_entries::id.eq(&e.id)).filter(queue_entries::row_version.eq(e.version - 1)),
    )
    .set((
        queue_entries::state.eq(e.state.code()),
        queue_entries::waiting_until.eq(e.waiting_until.map(|d| d.naive_utc())),
        queue_entries::left_at.eq(e.left_at.map(|d| d.naive_utc())),
        queue_entries::row_version.eq(e.version),
    ))
    .execute(conn)?;
    if n == 1 {
        if let Some(w) = waited_days {
            diesel::update(queue_entries::table.filter(queue_entries::id.eq(&e.id)))
                .set(queue_entries::waited_days.eq(w))
                .execute(conn)?;
        }
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("queue entry {} changed since it was read", e.id)))
    }
}

/// The local day (days since 1970-01-01) an entry was registered on.
pub fn registered_day(conn: &mut DbConnection, entry_id: &str) -> Result<i64, StoreError> {
    Ok(queue_entries::table.filter(queue_entries::id.eq(entry_id)).select(queue_entries::registered_day).first(conn)?)
}

pub fn find_entry(conn: &mut DbConnection, id: &str) -> Result<Option<QueueEntry>, StoreError> {
    let rows: Vec<Joined> = joined!().filter(queue_entries::id.eq(id)).load(conn)?;
    Ok(load(rows)?.into_iter().next())
}

/// The entries an applicant registered, newest first.
pub fn entries_of_applicant(conn: &mut DbConnection, iin: &str) -> Result<Vec<QueueEntry>, StoreError> {
    let rows: Vec<Joined> = joined!()
        .filter(queue_entries::applicant_iin.eq(iin))
        .order((queue_entries::registered_at.desc(), queue_entries::id.desc()))
        .limit(200)
        .load(conn)?;
    load(rows)
}

/// The head of a queue: the first waiting entry in the queue's order.
pub fn head_of_queue(conn: &mut DbConnection, queue_id: &str) -> Result<Option<QueueEntry>, StoreError> {
    let rows: Vec<Joined> = joined!()
        .filter(queue_entries::queue_id.eq(queue_id))
        .filter(queue_entries::state.eq(EntryState::Waiting.code()))
        .order((
            queue_entries::priority_rank.asc(),
            queue_entries::registered_at.asc(),
            queue_entries::entry_number.asc(),
        ))
        .limit(1)
        .load(conn)?;
    Ok(load(rows)?.into_iter().next())
}

/// One move of an entry's position: another entry before it in the queue's order registered after it
/// (+1), or stopped waiting (-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionMove {
    pub at: DateTime<Utc>,
    /// +1 (moved back) or -1 (moved forward).
    pub delta: i64,
    /// Why: `registered` (a child with priority came before), or the state the entry ahead moved to.
    pub because: String,
}

/// How an entry's position moved since its registration, oldest first: every entry before it in the
/// queue's order that registered after it, or stopped waiting after it registered. The running sum
/// from `position_at_issue` is the current position while it waits. At most `limit` of the latest.
pub fn moves(conn: &mut DbConnection, e: &QueueEntry, limit: i64) -> Result<(Vec<PositionMove>, i64), StoreError> {
    let at = e.registered_at.naive_utc();
    let ahead = queue_entries::priority_rank.lt(e.rank).or(queue_entries::priority_rank.eq(e.rank).and(
        queue_entries::registered_at
            .lt(at)
            .or(queue_entries::registered_at.eq(at).and(queue_entries::entry_number.lt(e.number))),
    ));
    let rows: Vec<(NaiveDateTime, Option<NaiveDateTime>, String)> = queue_entries::table
        .filter(queue_entries::queue_id.eq(&e.queue_id))
        .filter(queue_entries::id.ne(&e.id))
        .filter(ahead)
        .filter(queue_entries::registered_at.gt(at).or(queue_entries::waiting_until.gt(at)))
        .select((queue_entries::registered_at, queue_entries::waiting_until, queue_entries::state))
        .load(conn)?;
    // Only until this entry stopped waiting: after that its position no longer moves.
    let until = |d: NaiveDateTime| e.waiting_until.is_none_or(|w| d <= w.naive_utc());
    let mut out = Vec::new();
    for (reg, left, state) in rows {
        if reg > at && until(reg) {
            out.push(PositionMove { at: utc(reg), delta: 1, because: "registered".into() });
        }
        if let Some(l) = left.filter(|l| *l > at && until(*l)) {
            // The state it stopped waiting for: offered (possibly used, declined or expired since) or withdrawn.
            let why = if state == EntryState::Withdrawn.code() { "withdrawn" } else { "offered" };
            out.push(PositionMove { at: utc(l), delta: -1, because: why.into() });
        }
    }
    out.sort_by_key(|m| m.at);
    let total = out.len() as i64;
    let skip = (total - limit.max(0)).max(0) as usize;
    Ok((out.into_iter().skip(skip).collect(), total))
}

// ---------------------------------------------------------------------------------------------
// Places and referrals
// ---------------------------------------------------------------------------------------------

/// Place states: `free`, `offered` (a referral is out), `taken` (the referral was used).
pub const PLACE_FREE: &str = "free";
pub const PLACE_OFFERED: &str = "offered";
pub const PLACE_TAKEN: &str = "taken";

/// Referral states.
pub const REFERRAL_ISSUED: &str = "issued";
pub const REFERRAL_USED: &str = "used";

pub fn insert_place(
    conn: &mut DbConnection,
    preschool_id: &str,
    queue_id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(preschool_places::table)
        .values((
            preschool_places::id.eq(&id),
            preschool_places::preschool_id.eq(preschool_id),
            preschool_places::queue_id.eq(queue_id),
            preschool_places::state.eq(PLACE_FREE),
            preschool_places::recorded_by.eq(by),
            preschool_places::recorded_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The first free place of a queue (the oldest recorded): `(id, preschool_id)`.
pub fn free_place(conn: &mut DbConnection, queue_id: &str) -> Result<Option<(String, String)>, StoreError> {
    Ok(preschool_places::table
        .filter(preschool_places::queue_id.eq(queue_id))
        .filter(preschool_places::state.eq(PLACE_FREE))
        .order((preschool_places::recorded_at.asc(), preschool_places::id.asc()))
        .select((preschool_places::id, preschool_places::preschool_id))
        .first(conn)
        .optional()?)
}

/// Moves a place from one state to another; [`StoreError::Conflict`] if it was not in `from`.
pub fn move_place(conn: &mut DbConnection, id: &str, from: &str, to: &str) -> Result<(), StoreError> {
    let n = diesel::update(
        preschool_places::table.filter(preschool_places::id.eq(id)).filter(preschool_places::state.eq(from)),
    )
    .set(preschool_places::state.eq(to))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("place {id} is no longer {from}")))
    }
}

/// A referral as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
pub struct ReferralRow {
    pub id: String,
    pub place_id: String,
    pub entry_id: String,
    pub queue_id: String,
    pub issued_at: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub state: String,
    pub closed_at: Option<NaiveDateTime>,
    pub document_id: Option<String>,
}

pub fn insert_referral(conn: &mut DbConnection, r: &ReferralRow) -> Result<(), StoreError> {
    diesel::insert_into(referrals::table).values(r).execute(conn)?;
    Ok(())
}

pub fn set_referral_document(conn: &mut DbConnection, id: &str, document_id: &str) -> Result<(), StoreError> {
    diesel::update(referrals::table.filter(referrals::id.eq(id)))
        .set(referrals::document_id.eq(document_id))
        .execute(conn)?;
    Ok(())
}

/// The referral out for an entry (issued, not yet used or closed).
pub fn open_referral(conn: &mut DbConnection, entry_id: &str) -> Result<Option<ReferralRow>, StoreError> {
    Ok(referrals::table
        .filter(referrals::entry_id.eq(entry_id))
        .filter(referrals::state.eq(REFERRAL_ISSUED))
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every referral of an entry, oldest first.
pub fn referrals_of(conn: &mut DbConnection, entry_id: &str) -> Result<Vec<ReferralRow>, StoreError> {
    Ok(referrals::table
        .filter(referrals::entry_id.eq(entry_id))
        .order(referrals::issued_at.asc())
        .select(ReferralRow::as_select())
        .load(conn)?)
}

/// The issued referrals whose term ended before `now`, in the given queues (all when `None`), by queue.
pub fn lapsed_referrals(
    conn: &mut DbConnection,
    queue: Option<&str>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ReferralRow>, StoreError> {
    let mut q = referrals::table
        .filter(referrals::state.eq(REFERRAL_ISSUED))
        .filter(referrals::valid_until.lt(now.naive_utc()))
        .into_boxed();
    if let Some(id) = queue {
        q = q.filter(referrals::queue_id.eq(id.to_string()));
    }
    Ok(q.order((referrals::queue_id.asc(), referrals::valid_until.asc()))
        .limit(limit)
        .select(ReferralRow::as_select())
        .load(conn)?)
}

/// Closes an issued referral (`used`, `expired`, `declined`, `withdrawn`).
pub fn close_referral(conn: &mut DbConnection, id: &str, state: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let n = diesel::update(referrals::table.filter(referrals::id.eq(id)).filter(referrals::state.eq(REFERRAL_ISSUED)))
        .set((referrals::state.eq(state), referrals::closed_at.eq(at.naive_utc())))
        .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("referral {id} is no longer issued")))
    }
}

/// The preschool of a place.
pub fn place_preschool(conn: &mut DbConnection, place_id: &str) -> Result<String, StoreError> {
    Ok(preschool_places::table
        .filter(preschool_places::id.eq(place_id))
        .select(preschool_places::preschool_id)
        .first(conn)?)
}

// ---------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------

/// One queue's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueFigures {
    pub territory: String,
    pub birth_year: i32,
    /// Entries by state.
    pub entries: std::collections::BTreeMap<String, i64>,
    /// Sum of the registration days of the waiting entries (days since 1970-01-01).
    pub sum_registered_day_waiting: i64,
    /// Entries that left the queue with a waiting time, and the sum of those times in days.
    pub left_with_wait: i64,
    pub sum_waited_days: i64,
    /// Referrals by state (`issued`, `used`, `expired`, `declined`, `withdrawn`).
    pub referrals: std::collections::BTreeMap<String, i64>,
    pub free_places: i64,
}

#[derive(QueryableByName)]
struct StateCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    queue_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    sum_day: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    waited: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    sum_waited: Option<i64>,
}

#[derive(QueryableByName)]
struct QueueRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    territory: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    birth_year: i32,
}

/// Each queue's figures (of one territory, or all; of one year of birth, or all): SQL aggregates grouped
/// by queue and state over the indexes that lead with `queue_id`.
pub fn figures(
    conn: &mut DbConnection,
    territory: Option<&str>,
    birth_year: Option<i32>,
) -> Result<Vec<QueueFigures>, StoreError> {
    use diesel::sql_types::{Integer, Text};
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let (mut conds, mut n) = (vec!["1 = 1".to_string()], 0);
    let mut ph = || {
        n += 1;
        if pg {
            format!("${n}")
        } else {
            "?".to_string()
        }
    };
    if territory.is_some() {
        conds.push(format!("q.territory = {}", ph()));
    }
    if birth_year.is_some() {
        conds.push(format!("q.birth_year = {}", ph()));
    }
    let cond = conds.join(" AND ");
    let bound = |sql: String| {
        let mut q = diesel::sql_query(sql).into_boxed::<crate::db::MultiBackend>();
        if let Some(t) = territory {
            q = q.bind::<Text, _>(t.to_string());
        }
        if let Some(y) = birth_year {
            q = q.bind::<Integer, _>(y);
        }
        q
    };
    let queues: Vec<QueueRow> = bound(format!(
        "SELECT q.id, q.territory, q.birth_year FROM queues q WHERE {cond} ORDER BY q.territory, q.birth_year"
    ))
    .load(conn)?;
    let entries: Vec<StateCount> = bound(format!(
        "SELECT e.queue_id, e.state, COUNT(*) AS n, CAST(SUM(e.registered_day) AS BIGINT) AS sum_day, \
         CAST(COUNT(e.waited_days) AS BIGINT) AS waited, CAST(SUM(e.waited_days) AS BIGINT) AS sum_waited \
         FROM queue_entries e JOIN queues q ON q.id = e.queue_id WHERE {cond} GROUP BY e.queue_id, e.state"
    ))
    .load(conn)?;
    let refs: Vec<StateCount> = bound(format!(
        "SELECT r.queue_id, r.state, COUNT(*) AS n, CAST(NULL AS BIGINT) AS sum_day, CAST(NULL AS BIGINT) AS waited, \
         CAST(NULL AS BIGINT) AS sum_waited FROM referrals r JOIN queues q ON q.id = r.queue_id WHERE {cond} \
         GROUP BY r.queue_id, r.state"
    ))
    .load(conn)?;
    let places: Vec<StateCount> = bound(format!(
        "SELECT p.queue_id, p.state, COUNT(*) AS n, CAST(NULL AS BIGINT) AS sum_day, CAST(NULL AS BIGINT) AS waited, \
         CAST(NULL AS BIGINT) AS sum_waited FROM preschool_places p JOIN queues q ON q.id = p.queue_id WHERE {cond} \
         GROUP BY p.queue_id, p.state"
    ))
    .load(conn)?;
    let index: std::collections::HashMap<String, usize> =
        queues.iter().enumerate().map(|(i, q)| (q.id.clone(), i)).collect();
    let mut out: Vec<QueueFigures> = queues
        .into_iter()
        .map(|q| QueueFigures { territory: q.territory, birth_year: q.birth_year, ..Default::default() })
        .collect();
    for e in entries {
        let Some(f) = index.get(&e.queue_id).map(|i| &mut out[*i]) else { continue };
        if e.state == EntryState::Waiting.code() {
            f.sum_registered_day_waiting = e.sum_day.unwrap_or(0);
        }
        f.left_with_wait += e.waited.unwrap_or(0);
        f.sum_waited_days += e.sum_waited.unwrap_or(0);
        f.entries.insert(e.state, e.n);
    }
    for r in refs {
        if let Some(f) = index.get(&r.queue_id).map(|i| &mut out[*i]) {
            f.referrals.insert(r.state, r.n);
        }
    }
    for p in places {
        if let Some(f) = index.get(&p.queue_id).map(|i| &mut out[*i]) {
            if p.state == PLACE_FREE {
                f.free_places = p.n;
            }
        }
    }
    Ok(out)
}
