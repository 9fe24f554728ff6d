//! A calendar change's recomputation of the open applications it may move, as a walk of its own
//! (issue 11).
//!
//! The change commits first, in a short transaction that holds the law's exclusive lock for
//! milliseconds (`routes::calendar::change`). The walk then goes a page at a time, each page in its
//! own transaction: its applications' new due dates, their history entries and events, and the
//! walk's progress (`persistence::calendar::Recompute`) commit together. A page pins the law with
//! the shared lock every filing takes, so filings and commands go on while a decree's walk crosses a
//! million applications, and wait at most for another change's short transaction. A walk cut off (a
//! crash, a lost connection) resumes from its last committed page, through any instance
//! ([`AppState::resume_recomputes`]), and never moves an application twice: recomputing one already
//! moved moves nothing.
//!
//! Between the change's commit and the walk's last page, an application the walk has not reached
//! still shows the due date of the calendar before; the walk of a decree takes about a minute at a
//! million applications, and a new calendar change first finishes it.

use std::collections::BinaryHeap;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::application::{recompute_due, CalendarChange, Official, Reach};
use domain::calendar::{BusinessCalendar, YearData};
use domain::text::Lang;
use persistence::applications as repo;
use persistence::calendar::{Claim, Recompute};
use persistence::StoreError;

use crate::error::ApiError;
use crate::routes::calendar::change::RecomputedApplication;
use crate::state::AppState;

/// Applications a page reads and recomputes: its transaction holds their rows, and the walk's
/// memory stays this many applications whatever the number of open ones.
pub const PAGE: i64 = 200;

/// How long a driver's lease on a walk runs after its last page. A page takes milliseconds; a
/// driver silent for this long is taken to be gone, and another instance takes the walk over.
pub const LEASE: Duration = Duration::from_secs(30);

/// How often every instance looks for a walk whose driver went silent: one indexed read of a
/// small table.
pub const RESUME_INTERVAL: Duration = Duration::from_secs(2);

/// How often a page is tried again when a command changed one of its applications meanwhile (the
/// page rolls back whole and is read again).
const PAGE_ATTEMPTS: usize = 5;

/// At most this many moved applications are listed in a change's answer: a decree at national scale
/// may move hundreds of thousands, and the answer, like the walk's memory, stays bounded.
pub const LISTED: usize = 1000;

/// The moved applications an answer lists: the first [`LISTED`] in filing order (ids are UUIDv7 of
/// the filing moment), kept in a heap as the walks find them in due order.
#[derive(Default)]
pub struct Moved {
    first: BinaryHeap<ById>,
}

/// A moved application ordered by its id, the heap's largest on top to be dropped first.
struct ById(RecomputedApplication);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}
impl Eq for ById {}
impl PartialOrd for ById {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ById {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

impl Moved {
    pub fn push(&mut self, moved: RecomputedApplication) {
        self.first.push(ById(moved));
        if self.first.len() > LISTED {
            self.first.pop();
        }
    }

    /// The listed ones, in filing order.
    pub fn into_listed(self) -> Vec<RecomputedApplication> {
        self.first.into_sorted_vec().into_iter().map(|m| m.0).collect()
    }
}

/// "business calendar 2026 changed (order ... No 77 of 2026-11-20): <the admin's reason>", naming the
/// decrees that are new or changed in this version of the year.
pub fn history_reason(before: &BusinessCalendar, data: &YearData, reason: &str) -> String {
    let earlier = before.year_data(data.year);
    let cited: Vec<String> = data
        .decrees
        .iter()
        .filter(|d| earlier.is_none_or(|b| !b.decrees.contains(d)))
        .map(|d| d.citation(Lang::En))
        .collect();
    let by = if cited.is_empty() { String::new() } else { format!(" ({})", cited.join("; ")) };
    format!("business calendar {} changed{by}: {reason}", data.year)
}

/// The machine's clock, for leases only (how long a driver went silent); the law's moments come
/// from the injectable clock.
fn wall_now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// The end of a lease taken now.
pub fn lease_until() -> NaiveDateTime {
    wall_now() + chrono::Duration::from_std(LEASE).expect("a lease of seconds")
}

/// How a drive ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Walked {
    /// The walk is finished; this many applications moved in all (by any driver).
    Finished { moved_count: u64 },
    /// Another driver holds the walk's lease.
    Leased { moved_count: u64 },
}

/// What a page did.
enum Page {
    Done { moved: Vec<RecomputedApplication>, walk: Recompute },
    Leased(Recompute),
    Finished(Recompute),
}

/// Walks the recomputation of `change_id` as `driver`, page after page, until it is finished or
/// another driver holds it; every application moved by this drive is pushed to `listed`. Each moved
/// application gets its `calendar_changed` history entry (at `now`, by the change's administrator)
/// and its `application.due_date_changed` event in the page's transaction.
pub fn drive(
    state: &AppState,
    change_id: &str,
    driver: &str,
    now: DateTime<Utc>,
    listed: &mut Moved,
) -> Result<Walked, ApiError> {
    // What the walk recomputes on, read once: the calendar just before the change and just after it.
    let (change, before, after) = state.db.read(|c| {
        let change = persistence::calendar::find(c, change_id)?.ok_or(StoreError::NotFound)?;
        let (before, after) = persistence::calendar::around(c, state.shipped_calendar(), &change)?;
        Ok((change, before, after))
    })?;
    let data: YearData = serde_json::from_str(&change.data)
        .map_err(|e| ApiError::Internal(format!("calendar change {change_id}: {e}")))?;
    let admin = Official::new(change.changed_by.clone(), crate::procedure::actor(crate::auth::Role::Admin));
    let reason = history_reason(&before, &data, &change.reason);
    let bearing = CalendarChange {
        before: &before,
        after: &after,
        year: change.year,
        change_id: &change.id,
        reason: &reason,
        admin: &admin,
        now,
    };
    // A change that made no day something else records no walk; one resumed here always has a reach.
    let reach = bearing.reach();
    loop {
        let mut attempt = 0;
        let page = loop {
            attempt += 1;
            match state.db.write_with(|c| page(state, c, &bearing, reach.as_ref(), driver)) {
                Err(ApiError::Conflict { .. }) if attempt < PAGE_ATTEMPTS => continue,
                other => break other?,
            }
        };
        match page {
            Page::Done { moved, walk } => {
                for m in moved {
                    listed.push(m);
                }
                if walk.finished_at.is_some() {
                    return Ok(Walked::Finished { moved_count: walk.moved_count as u64 });
                }
            }
            Page::Leased(walk) => return Ok(Walked::Leased { moved_count: walk.moved_count as u64 }),
            Page::Finished(walk) => return Ok(Walked::Finished { moved_count: walk.moved_count as u64 }),
        }
    }
}

/// One page of the walk, in the caller's transaction: pins the law (the shared lock a filing takes),
/// takes the walk's lease, recomputes the next page of applications along the walk's deadline and
/// records how far it got.
fn page(
    state: &AppState,
    c: &mut persistence::DbConnection,
    change: &CalendarChange<'_>,
    reach: Option<&Reach>,
    driver: &str,
) -> Result<Page, ApiError> {
    let law = state.law_for_write(c)?;
    let mut walk = match persistence::calendar::claim_recompute(c, change.change_id, driver, wall_now(), lease_until())?
    {
        Claim::Mine(walk) => walk,
        Claim::Leased(walk) => return Ok(Page::Leased(walk)),
        Claim::Finished(walk) => return Ok(Page::Finished(walk)),
    };
    let (along, cursor) = walk.position()?;
    let rows = match reach {
        Some(reach) => repo::open_within(c, reach, along, cursor.as_ref(), PAGE)?,
        None => Vec::new(),
    };
    let mut moved = Vec::new();
    for app in &rows {
        let Some(passport) = law.catalog.service(&app.service_key).and_then(|s| s.version(&app.passport_version))
        else {
            tracing::warn!(application = %app.id, "passport missing; due date left as it is");
            continue;
        };
        let Some(recomputed) = recompute_due(app, passport, change) else { continue };
        repo::save(c, &recomputed).map_err(crate::procedure::concurrent("application"))?;
        let new = &recomputed.application;
        moved.push(RecomputedApplication {
            id: app.id.clone(),
            registration_number: app.registration_number.clone(),
            old_due_date: app.due_date,
            new_due_date: new.due_date,
            old_due_at: app.due_at,
            new_due_at: new.due_at,
        });
    }
    walk.moved_count += moved.len() as i64;
    match rows.last() {
        Some(last) if rows.len() as i64 == PAGE => {
            let next = along.cursor_after(last);
            walk.after_at = Some(next.at);
            walk.after_id = Some(next.id);
        }
        // The walk along this deadline is done: on to the next, or the end.
        _ => match along.next() {
            Some(next) => {
                walk.along = next.key().into();
                walk.after_at = None;
                walk.after_id = None;
            }
            None => walk.finished_at = Some(change.now.naive_utc()),
        },
    }
    persistence::calendar::advance_recompute(c, &walk)?;
    Ok(Page::Done { moved, walk })
}

impl AppState {
    /// Takes over the walks whose driver went silent (its lease ran out: a crash, a lost
    /// connection), on a thread of its own, every `interval`, for as long as the state lives. Every
    /// instance runs one; the lease lets one drive a walk at a time.
    pub fn resume_recomputes(state: std::sync::Weak<AppState>, interval: Duration) {
        let driver = format!("resumer-{}", uuid::Uuid::new_v4().simple());
        let spawned = AppState::every(&state, "calendar-recompute", interval, move |state| {
            if let Err(e) = state.resume_pending(&driver) {
                tracing::warn!(error = %e, "could not resume a calendar change's recomputation");
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot resume calendar recomputations: a walk cut off waits for the next change");
        }
    }

    /// Drives the oldest unfinished walk, if its lease ran out, to its end.
    pub fn resume_pending(&self, driver: &str) -> Result<(), ApiError> {
        let Some(walk) = self.db.read(persistence::calendar::pending_recompute)? else { return Ok(()) };
        if walk.leased_by.as_deref().is_some_and(|d| d != driver) && walk.leased_until.is_some_and(|u| u > wall_now()) {
            return Ok(());
        }
        tracing::info!(change = %walk.change_id, moved = walk.moved_count, "resuming a calendar change's recomputation");
        let walked = drive(self, &walk.change_id, driver, self.clock.now(), &mut Moved::default())?;
        tracing::info!(change = %walk.change_id, ?walked, "calendar change's recomputation resumed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn moved(id: String) -> RecomputedApplication {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let at = day.and_hms_opt(13, 30, 0).unwrap().and_utc();
        RecomputedApplication {
            registration_number: format!("2026-{id}"),
            id,
            old_due_date: day,
            new_due_date: day,
            old_due_at: at,
            new_due_at: at,
        }
    }

    #[test]
    fn the_answer_lists_the_first_thousand_moved_in_filing_order() {
        let mut m = Moved::default();
        // Found latest due first, which is no particular filing order.
        for i in (0..2500u32).map(|i| (i * 7919) % 2500) {
            m.push(moved(format!("{i:06}")));
        }
        let ids: Vec<String> = m.into_listed().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, (0..1000).map(|i| format!("{i:06}")).collect::<Vec<_>>());
    }
}
