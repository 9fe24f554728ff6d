//! `PUT /api/v1/calendar/{year}`: an administrator records a year (a new decree's transfers); the due
//! date of every open application moves with it in the same transaction, each with its history entry.

use actix_web::{put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::application::{recompute_due, CalendarChange};
use domain::calendar::{BusinessCalendar, CalendarError, Confidence, Decree, LunarDate, Transfer, YearData};
use domain::catalog::Catalog;
use domain::text::Lang;
use persistence::applications as repo;
use persistence::calendar::CalendarChange as RecordedChange;
use persistence::DbConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{request_lang, ValidJson};
use crate::state::AppState;
use crate::views::calendar::*;

fn not_blank(s: &str) -> Result<(), ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::new("required").with_message("must not be blank".into()));
    }
    Ok(())
}

/// A year of the calendar as an administrator records it: the whole year (what is not given is gone),
/// and why.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "reason": "Order No 77 of 20 November 2026 moves the day off from Saturday 19 December to Wednesday 25 November",
    "kurban_ait": {"date": "2026-05-27", "confidence": "confirmed"},
    "decrees": [{"id": "mlsp-2026-11", "kind": "ministry_order", "number": "77", "date": "2026-11-20", "confidence": "confirmed"}],
    "transfers": [{"day_off": "2026-11-25", "working_day": "2026-12-19", "decree": "mlsp-2026-11"}]
}))]
pub struct CalendarYearChange {
    /// The year; when given, it must equal the path's.
    #[schema(minimum = 1991, maximum = 2100)]
    pub year: Option<i32>,
    /// The first day of Kurban Ait that year (a day off every year; lunar, so given per year).
    #[validate(nested)]
    pub kurban_ait: LunarDateInput,
    #[serde(default)]
    #[validate(nested)]
    pub decrees: Vec<DecreeInput>,
    #[serde(default)]
    #[validate(nested)]
    pub transfers: Vec<TransferInput>,
    /// How far the year as a whole has been checked.
    #[schema(schema_with = confidence_schema)]
    pub confidence: Option<Confidence>,
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// Why the year changes (the decree, where it was published): written to the history of every
    /// application whose due date moves. Not blank: at least one character that is not white space.
    #[validate(length(max = 2000), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub reason: String,
}

impl CalendarYearChange {
    fn into_year_data(self, year: i32) -> YearData {
        YearData {
            year,
            kurban_ait: Some(LunarDate {
                date: self.kurban_ait.date,
                confidence: self.kurban_ait.confidence,
                note: self.kurban_ait.note,
            }),
            decrees: self
                .decrees
                .into_iter()
                .map(|d| Decree {
                    id: d.id,
                    kind: d.kind,
                    number: d.number,
                    date: d.date,
                    year: d.year,
                    adilet: d.adilet,
                    confidence: d.confidence,
                    note: d.note,
                })
                .collect(),
            transfers: self
                .transfers
                .into_iter()
                .map(|t| Transfer { day_off: t.day_off, working_day: t.working_day, decree: t.decree })
                .collect(),
            confidence: self.confidence,
            notes: self.notes,
        }
    }
}

/// Names the field a calendar validation error is about: the domain reports the offending transfer,
/// decree or date in its message, and the year's data says at which index it stands.
fn calendar_error(e: CalendarError, data: &YearData) -> ApiError {
    let message = e.to_string();
    let mut field = "body".to_string();
    if let Some(i) =
        data.transfers.iter().position(|t| message.contains(&format!("transfer {} / {}:", t.day_off, t.working_day)))
    {
        let part = if message.contains("cites no decree") {
            ".decree"
        } else if message.contains("new day off") {
            ".day_off"
        } else if message.contains("new working day") {
            ".working_day"
        } else {
            ""
        };
        field = format!("transfers[{i}]{part}");
    } else if let Some(i) = data.decrees.iter().position(|d| message.contains(&format!("decree id `{}`", d.id))) {
        field = format!("decrees[{i}].id");
    } else if message.contains("Kurban Ait") {
        field = "kurban_ait.date".into();
    }
    ApiError::Validation {
        code: "invalid_calendar",
        detail: message.clone(),
        errors: vec![FieldError::new(field, "calendar_rule", message)],
    }
}

/// An open application whose due date the change moved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecomputedApplication {
    pub id: String,
    pub registration_number: String,
    pub old_due_date: NaiveDate,
    pub new_due_date: NaiveDate,
    pub old_due_at: DateTime<Utc>,
    pub new_due_at: DateTime<Utc>,
}

/// The year as it now stands, and what the change moved.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarChangeResult {
    /// The id of the recorded change.
    pub change_id: String,
    pub calendar: CalendarYearView,
    /// Open applications whose due date moved (the others kept theirs), in the order they were filed:
    /// the first 1,000 of them when more moved (`recomputed_count` says how many). Every one has its
    /// `calendar_changed` history entry and its `application.due_date_changed` event, which name
    /// this change's id.
    pub recomputed: Vec<RecomputedApplication>,
    /// How many open applications the change moved.
    pub recomputed_count: u64,
}

/// At most this many moved applications are listed in the answer: a decree at national scale may
/// move hundreds of thousands, and the answer, like the change's memory, stays bounded.
const LISTED: usize = 1000;

/// The moved applications the answer lists: the first [`LISTED`] in filing order (ids are UUIDv7 of
/// the filing moment), kept in a heap as the walks find them in due order, and the count of all.
#[derive(Default)]
struct Moved {
    first: std::collections::BinaryHeap<ById>,
    count: u64,
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
    fn push(&mut self, moved: RecomputedApplication) {
        self.count += 1;
        self.first.push(ById(moved));
        if self.first.len() > LISTED {
            self.first.pop();
        }
    }

    /// The listed ones in filing order, and the count of all.
    fn into_listed(self) -> (Vec<RecomputedApplication>, u64) {
        (self.first.into_sorted_vec().into_iter().map(|m| m.0).collect(), self.count)
    }
}

/// Record a year of the calendar (administrators): typically a new decree moving days off.
///
/// The year is replaced whole and validated as the shipped data is (every transfer cites a decree of
/// the year, makes an ordinary weekday a day off and a weekend day a working day). In the same
/// transaction the due date of every open application whose counted days include a day the change
/// made something else (filed before the last such day ends, due on or after the first begins) is
/// recomputed on the new calendar from its filing moment and its passport's service term; the others
/// keep theirs, as counting the same days again would give. Each one that moves gets a `calendar_changed` history
/// entry with the old and new values and the days that moved it, and an `application.due_date_changed`
/// event. The change survives restarts (it is replayed over the shipped calendar at start).
#[utoipa::path(
    tag = "calendar",
    operation_id = "putCalendarYear",
    params(("year" = i32, Path, description = "The year, 1991 to 2100", example = 2026, minimum = 1991, maximum = 2100)),
    request_body(content = CalendarYearChange, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; the year as it now stands and the applications whose due date moved", body = CalendarChangeResult),
        (status = 409, description = "An application changed while its due date was recomputed; retry", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem. Beyond the schema, the calendar's own \
rules: `must_match_path` (the body's `year` differs from the path), `invalid_calendar` with rule `calendar_rule` (Kurban \
Ait must fall in the year; a decree id is used once across all years; a transfer names one of the year's decrees and \
moves a working weekday to a day off and a day off to a working day, in that year)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[put("/calendar/{year:[0-9]+}")]
pub async fn put_year(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    year: web::Path<String>,
    body: ValidJson<CalendarYearChange>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let lang = request_lang(&req, None)?;
    let year = check_year(&year)?;
    let body = body.0;
    if body.year.is_some_and(|y| y != year) {
        return Err(ApiError::field("year", "must_match_path", "the body's year differs from the path"));
    }
    let reason = body.reason.trim().to_string();
    let data = body.into_year_data(year);
    let now = state.clock.now();
    let state2 = state.clone();
    let (change_id, law, (recomputed, recomputed_count)) = web::block(move || {
        state2.db.write_with(|c| -> Result<_, ApiError> {
            // Serialised with every other change of the law's data, through any instance: the change
            // builds on the calendar the database holds, not on this instance's copy.
            persistence::law::begin_change(c)?;
            let mut law = state2.load_law(c)?;
            let current = law.calendar.clone();
            let next = current.with_year(data.clone()).map_err(|e| calendar_error(e, &data))?;
            let change = RecordedChange {
                id: uuid::Uuid::now_v7().to_string(),
                year,
                data: serde_json::to_string(&data).map_err(|e| ApiError::Internal(e.to_string()))?,
                reason: reason.clone(),
                changed_at: now.naive_utc(),
                changed_by: who.sub.clone(),
            };
            let admin = crate::procedure::official(&who);
            let why = history_reason(&current, &data, &reason);
            let bearing = CalendarChange {
                before: &current,
                after: &next,
                year,
                change_id: &change.id,
                reason: &why,
                admin: &admin,
                now,
            };
            persistence::calendar::insert(c, &change)?;
            let recomputed = recompute_open_applications(c, &law.catalog, &bearing)?;
            law.calendar = next;
            Ok((change.id, law, recomputed))
        })
    })
    .await??;
    // Only once committed: a failed transaction leaves the calendar in force untouched. This instance
    // serves the change at once, the others within a poll interval.
    let next = law.calendar.clone();
    state.install(law);
    Ok(localized(
        lang,
        CalendarChangeResult {
            change_id,
            calendar: CalendarYearView::new(&next, year, lang),
            recomputed,
            recomputed_count,
        },
    ))
}

/// "business calendar 2026 changed (order ... No 77 of 2026-11-20): <the admin's reason>", naming the
/// decrees that are new or changed in this version of the year.
fn history_reason(current: &BusinessCalendar, data: &YearData, reason: &str) -> String {
    let before = current.year_data(data.year);
    let cited: Vec<String> = data
        .decrees
        .iter()
        .filter(|d| before.is_none_or(|b| !b.decrees.contains(d)))
        .map(|d| d.citation(Lang::En))
        .collect();
    let by = if cited.is_empty() { String::new() } else { format!(" ({})", cited.join("; ")) };
    format!("business calendar {} changed{by}: {reason}", data.year)
}

/// Applications a calendar change reads and recomputes at a time: its memory stays this many
/// applications whatever the number of open ones.
const RECOMPUTE_PAGE: i64 = 200;

/// Recomputes the due date of every open application the change may move (its
/// [`Reach`](domain::application::Reach): the others' counted days are all unchanged) on the new
/// calendar (`domain::application::recompute_due`), a page at a time, writing each one that moves
/// with its history entry and event, in the caller's transaction. Returns the moved ones the answer
/// lists, and the count of all.
fn recompute_open_applications(
    c: &mut DbConnection,
    catalog: &Catalog,
    change: &CalendarChange<'_>,
) -> Result<(Vec<RecomputedApplication>, u64), ApiError> {
    let mut moved = Moved::default();
    let Some(reach) = change.reach() else { return Ok(moved.into_listed()) };
    for along in [repo::Along::Due, repo::Along::Stage] {
        let mut after = None;
        loop {
            let page = repo::open_within(c, &reach, along, after.as_ref(), RECOMPUTE_PAGE)?;
            let Some(last) = page.last() else { break };
            after = Some(along.cursor_after(last));
            let full = page.len() as i64 == RECOMPUTE_PAGE;
            for app in page {
                let Some(passport) = catalog.service(&app.service_key).and_then(|s| s.version(&app.passport_version))
                else {
                    tracing::warn!(application = %app.id, "passport missing; due date left as it is");
                    continue;
                };
                let Some(recomputed) = recompute_due(&app, passport, change) else { continue };
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
            if !full {
                break;
            }
        }
    }
    Ok(moved.into_listed())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_answer_lists_the_first_thousand_moved_in_filing_order_and_counts_all() {
        let mut m = Moved::default();
        // Found latest due first, which is no particular filing order.
        for i in (0..2500u32).map(|i| (i * 7919) % 2500) {
            m.push(moved(format!("{i:06}")));
        }
        let (listed, count) = m.into_listed();
        assert_eq!(count, 2500);
        let ids: Vec<String> = listed.into_iter().map(|r| r.id).collect();
        assert_eq!(ids, (0..1000).map(|i| format!("{i:06}")).collect::<Vec<_>>());
    }
    use domain::calendar::{Confidence, Decree, DecreeKind, Transfer};

    fn year_2026_with(transfers: Vec<Transfer>) -> YearData {
        let mut data = BusinessCalendar::kazakhstan().year_data(2026).cloned().expect("2026 is shipped");
        data.decrees = vec![Decree {
            id: "mlsp-2026-11".into(),
            kind: DecreeKind::MinistryOrder,
            number: Some("77".into()),
            date: NaiveDate::from_ymd_opt(2026, 11, 20),
            year: None,
            adilet: None,
            confidence: Confidence::Confirmed,
            note: None,
        }];
        data.transfers = transfers;
        data
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn change(id: &str, data: &YearData, at: chrono::NaiveDateTime) -> RecordedChange {
        RecordedChange {
            id: id.into(),
            year: data.year,
            data: serde_json::to_string(data).unwrap(),
            reason: "test".into(),
            changed_at: at,
            changed_by: "admin-1".into(),
        }
    }

    /// A recorded change is what the calendar holds after a restart; the latest change of a year wins.
    #[test]
    fn recorded_changes_are_replayed_at_start() {
        let dir = std::env::temp_dir().join(format!("kz-calendar-unit-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = persistence::Database::connect(&dir.join("app.db").to_string_lossy(), 2).unwrap();
        let at = date(2026, 11, 23).and_hms_opt(5, 0, 0).unwrap();
        let first = year_2026_with(vec![Transfer {
            day_off: date(2026, 11, 25),
            working_day: date(2026, 12, 19),
            decree: "mlsp-2026-11".into(),
        }]);
        let second = year_2026_with(vec![Transfer {
            day_off: date(2026, 11, 27),
            working_day: date(2026, 12, 19),
            decree: "mlsp-2026-11".into(),
        }]);
        db.write(|c| {
            persistence::calendar::insert(c, &change("0001", &first, at))?;
            persistence::calendar::insert(c, &change("0002", &second, at))
        })
        .unwrap();
        let cal = db.read(|c| persistence::calendar::replay(c, BusinessCalendar::kazakhstan().clone())).unwrap();
        assert!(cal.is_working_day(date(2026, 11, 25)));
        assert!(!cal.is_working_day(date(2026, 11, 27)));
        assert!(cal.is_working_day(date(2026, 12, 19)));
        assert!(!BusinessCalendar::kazakhstan().is_working_day(date(2026, 12, 19)));
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn field_of(data: &YearData) -> String {
        let e = BusinessCalendar::kazakhstan().with_year(data.clone()).expect_err("invalid");
        match calendar_error(e, data) {
            ApiError::Validation { errors, .. } => errors[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn calendar_errors_name_the_field() {
        let ok =
            Transfer { day_off: date(2026, 11, 25), working_day: date(2026, 12, 19), decree: "mlsp-2026-11".into() };
        let saturday_off = Transfer { day_off: date(2026, 11, 28), ..ok.clone() };
        assert_eq!(field_of(&year_2026_with(vec![ok.clone(), saturday_off])), "transfers[1].day_off");
        let friday_worked = Transfer { working_day: date(2026, 12, 18), ..ok.clone() };
        assert_eq!(field_of(&year_2026_with(vec![friday_worked])), "transfers[0].working_day");
        let no_act = Transfer { decree: "nope".into(), ..ok.clone() };
        assert_eq!(field_of(&year_2026_with(vec![no_act])), "transfers[0].decree");
        let mut taken_id = year_2026_with(vec![]);
        taken_id.decrees[0].id = "mlsp-2024-05".into();
        assert_eq!(field_of(&taken_id), "decrees[0].id");
    }

    #[test]
    fn offsets_follow_the_2024_single_zone() {
        let cal = BusinessCalendar::kazakhstan();
        let offsets: Vec<(NaiveDate, String)> =
            utc_offsets(cal, 2024).into_iter().map(|p| (p.from, p.utc_offset)).collect();
        assert_eq!(offsets, vec![(date(2024, 1, 1), "+06:00".to_string()), (date(2024, 3, 1), "+05:00".to_string())]);
    }
}
