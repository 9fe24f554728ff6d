//! `PUT /api/v1/calendar/{year}`: an administrator records a year (a new decree's transfers); the due
//! date of every open application it moves moves with it, each with its history entry, in a walk
//! that follows the change's own short transaction (`crate::recompute`).

use actix_web::{put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::application::CalendarChange;
use domain::calendar::{BusinessCalendar, CalendarError, Confidence, Decree, LunarDate, Transfer, YearData};
use persistence::calendar::{CalendarChange as RecordedChange, Recompute};
use persistence::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{request_lang, ValidJson};
use crate::recompute::{self, Moved, Walked};
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

/// Record a year of the calendar (administrators): typically a new decree moving days off.
///
/// The year is replaced whole and validated as the shipped data is (every transfer cites a decree of
/// the year, makes an ordinary weekday a day off and a weekend day a working day). The change is
/// recorded in one short transaction and is in force for every filing from then on, through any
/// instance. Then the due date of every open application whose counted days include a day the change
/// made something else (filed before the last such day ends, due on or after the first begins) is
/// recomputed on the new calendar from its filing moment and its passport's service term, a page of
/// 200 at a time, each page in its own transaction, so that filings and commands go on meanwhile;
/// the others keep theirs, as counting the same days again would give. Each one that moves gets a
/// `calendar_changed` history entry with the old and new values and the days that moved it, and an
/// `application.due_date_changed` event. The answer comes once all are recomputed; if the walk is
/// cut off (a crash), any instance finishes it once the walk's 30-second lease runs out, and a new
/// calendar change finishes it first. The change survives restarts (it is replayed over the shipped calendar at start).
#[utoipa::path(
    tag = "calendar",
    operation_id = "putCalendarYear",
    params(("year" = i32, Path, description = "The year, 1991 to 2100", example = 2026, minimum = 1991, maximum = 2100)),
    request_body(content = CalendarYearChange, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; the year as it now stands and the applications whose due date moved", body = CalendarChangeResult),
        (status = 409, description = "`calendar_change_in_progress`: another instance is still recomputing the open \
applications of an earlier change; retry when it is done. `concurrent_change`: commands kept changing the applications \
of a page while it was recomputed; the change is recorded, and any instance finishes its recomputation once the walk's 30-second lease runs out", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let (change_id, listed, recomputed_count, calendar) = web::block(move || -> Result<_, ApiError> {
        let driver = format!("change-{}", uuid::Uuid::new_v4().simple());
        // A walk an earlier change left unfinished (its driver crashed) is finished first: this
        // change builds on, and recomputes over, the calendar that one made. Bounded, in case another
        // change keeps slipping in between.
        let mut listed = Moved::default();
        for _ in 0..3 {
            match record(&state2, &data, &reason, &who, now, &driver)? {
                Recorded::Pending(earlier) => {
                    if let Walked::Leased { moved_count } =
                        recompute::drive(&state2, &earlier, &driver, state2.clock.now(), &mut Moved::default())?
                    {
                        return Err(walk_in_progress(&earlier, moved_count, false));
                    }
                }
                Recorded::Done { change_id, walks, calendar } => {
                    let mut count = 0;
                    if walks {
                        match recompute::drive(&state2, &change_id, &driver, now, &mut listed)? {
                            Walked::Finished { moved_count } => count = moved_count,
                            Walked::Leased { moved_count } => {
                                return Err(walk_in_progress(&change_id, moved_count, true))
                            }
                        }
                    }
                    return Ok((change_id, listed, count, calendar));
                }
            }
        }
        Err(ApiError::Conflict {
            code: "calendar_change_in_progress",
            detail: "other calendar changes kept being recorded meanwhile; retry".into(),
            state: None,
            allowed_actions: None,
        })
    })
    .await??;
    Ok(localized(
        lang,
        CalendarChangeResult {
            change_id,
            calendar: CalendarYearView::new(&calendar, year, lang),
            recomputed: listed.into_listed(),
            recomputed_count,
        },
    ))
}

/// What recording a change did.
enum Recorded {
    /// Recorded and in force; `walks` when it made some day something else, so that open
    /// applications are to be recomputed (its walk, leased to the recording driver).
    Done { change_id: String, walks: bool, calendar: Box<BusinessCalendar> },
    /// Nothing recorded: the walk of this earlier change is not finished.
    Pending(String),
}

/// Records the change in one short transaction: serialised with every other change of the law's
/// data through any instance (the exclusive lock waits for the filings in flight, which then all
/// see the new calendar), it bumps the generation, stores the year and starts its walk. The open
/// applications are recomputed after it commits, a page at a time ([`recompute::drive`]).
fn record(
    state: &AppState,
    data: &YearData,
    reason: &str,
    who: &Principal,
    now: DateTime<Utc>,
    driver: &str,
) -> Result<Recorded, ApiError> {
    let recorded = state.db.write_with(|c| -> Result<_, RecordError> {
        persistence::law::begin_change(c)?;
        if let Some(walk) = persistence::calendar::pending_recompute(c)? {
            // Rolls back the generation's bump: nothing is recorded.
            return Err(RecordError::Pending(walk.change_id));
        }
        let mut law = state.load_law(c)?;
        let current = law.calendar.clone();
        let next = current.with_year(data.clone()).map_err(|e| calendar_error(e, data))?;
        let change = RecordedChange {
            id: uuid::Uuid::now_v7().to_string(),
            year: data.year,
            data: serde_json::to_string(data).map_err(|e| ApiError::Internal(e.to_string()))?,
            reason: reason.to_string(),
            changed_at: now.naive_utc(),
            changed_by: who.sub.clone(),
        };
        persistence::calendar::insert(c, &change)?;
        let admin = crate::procedure::official(who);
        let bearing = CalendarChange {
            before: &current,
            after: &next,
            year: data.year,
            change_id: &change.id,
            reason,
            admin: &admin,
            now,
        };
        let walks = bearing.reach().is_some();
        if walks {
            let walk = Recompute::start(&change.id, Some((driver, recompute::lease_until())), now.naive_utc());
            persistence::calendar::start_recompute(c, &walk)?;
        }
        law.calendar = next;
        Ok((change.id, walks, law))
    });
    match recorded {
        Ok((change_id, walks, law)) => {
            // Only once committed: a failed transaction leaves the calendar in force untouched. This
            // instance serves the change at once, the others within a poll interval.
            let calendar = Box::new(law.calendar.clone());
            state.install(law);
            Ok(Recorded::Done { change_id, walks, calendar })
        }
        Err(RecordError::Pending(earlier)) => Ok(Recorded::Pending(earlier)),
        Err(RecordError::Api(e)) => Err(e),
    }
}

/// Why [`record`]'s transaction rolled back.
enum RecordError {
    Pending(String),
    Api(ApiError),
}

impl From<ApiError> for RecordError {
    fn from(e: ApiError) -> Self {
        RecordError::Api(e)
    }
}
impl From<StoreError> for RecordError {
    fn from(e: StoreError) -> Self {
        RecordError::Api(e.into())
    }
}
impl From<persistence::DieselError> for RecordError {
    fn from(e: persistence::DieselError) -> Self {
        RecordError::Api(e.into())
    }
}

/// A walk another driver holds: an earlier change's (nothing of this one is recorded), or this
/// change's own, taken over when its pages stalled past the lease (this change is recorded).
fn walk_in_progress(change_id: &str, moved_count: u64, own: bool) -> ApiError {
    let detail = if own {
        format!(
            "calendar change {change_id} is recorded and in force; another instance took over recomputing its \
             open applications ({moved_count} moved so far)"
        )
    } else {
        format!(
            "another instance is recomputing the open applications of calendar change {change_id} \
             ({moved_count} moved so far); nothing was recorded: retry when it is done"
        )
    };
    ApiError::Conflict { code: "calendar_change_in_progress", detail, state: None, allowed_actions: None }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A walk resumed after a crash recomputes on the calendar just after its change and names the
    /// days that differ from the calendar just before it, whatever was recorded later.
    #[test]
    fn a_change_is_read_with_the_calendar_just_before_and_after_it() {
        let dir = std::env::temp_dir().join(format!("kz-calendar-unit-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = persistence::Database::connect(&dir.join("app.db").to_string_lossy(), 2).unwrap();
        let at = date(2026, 11, 23).and_hms_opt(5, 0, 0).unwrap();
        let moving = |day_off| {
            year_2026_with(vec![Transfer { day_off, working_day: date(2026, 12, 19), decree: "mlsp-2026-11".into() }])
        };
        let (first, second, third) = (
            change("0001", &moving(date(2026, 11, 25)), at),
            change("0002", &moving(date(2026, 11, 27)), at),
            change("0003", &moving(date(2026, 11, 26)), at),
        );
        db.write(|c| {
            for ch in [&first, &second, &third] {
                persistence::calendar::insert(c, ch)?;
            }
            Ok(())
        })
        .unwrap();
        let shipped = BusinessCalendar::kazakhstan();
        let (before, after) = db.read(|c| persistence::calendar::around(c, shipped, &second)).unwrap();
        assert!(!before.is_working_day(date(2026, 11, 25)), "the first change is in force before the second");
        assert!(before.is_working_day(date(2026, 11, 27)));
        assert!(after.is_working_day(date(2026, 11, 25)), "the second replaced the year");
        assert!(!after.is_working_day(date(2026, 11, 27)));
        assert!(after.is_working_day(date(2026, 11, 26)), "the third, recorded later, is not in it");
        let (before, after) = db.read(|c| persistence::calendar::around(c, shipped, &first)).unwrap();
        assert!(
            before.is_working_day(date(2026, 11, 25)) && !before.is_working_day(date(2026, 12, 19)),
            "the shipped year"
        );
        assert!(!after.is_working_day(date(2026, 11, 25)));
        assert!(after.is_working_day(date(2026, 12, 19)));
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
