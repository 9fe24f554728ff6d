//! `/api/v1/calendar`: the Kazakh business calendar (өндірістік күнтізбе / производственный календарь),
//! term arithmetic on it, and an administrator's change of a year when a new transfer decree appears.
//!
//! The calendar itself lives in the domain ([`domain::calendar`], [`domain::deadline`]); these handlers
//! only present it in the caller's language and, for a change, keep the open applications' due dates
//! true to the calendar in force: a day off that moves under a running term moves its due date, in the
//! same transaction that records the change, with a history entry saying which day moved it.

use std::ops::RangeInclusive;
use std::sync::Mutex;

use actix_web::{get, http::header, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use domain::application::{recompute_due, CalendarChange};
use domain::calendar::{
    BusinessCalendar, CalendarError, Confidence, DayInfo, DayKind, Decree, DecreeKind, Intake, LunarDate, Schedule,
    Transfer, YearData,
};
use domain::catalog::Catalog;
use domain::deadline::{self, Deadline};
use domain::passport::{Channel, Passport, Term, TermUnit};
use domain::text::Lang;
use persistence::applications as repo;
use persistence::calendar::CalendarChange as RecordedChange;
use persistence::DbConnection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{request_lang, ValidJson, ValidQuery};
use crate::state::AppState;

/// Years the API answers for: the Republic's own calendar starts in 1991; beyond 2100 nothing is
/// meaningful (no data, and the rules themselves will have changed).
const YEARS: RangeInclusive<i32> = 1991..=2100;

/// Serialises calendar changes, so that two administrators never build on the same calendar and the
/// first change is lost when the second replaces it.
static CHANGING: Mutex<()> = Mutex::new(());

/// A domain enum's wire code (`rules_only`, `ministry_order`, ...).
fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn string_enum(values: Vec<&'static str>, description: &str) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(values))
            .description(Some(description))
            .build(),
    )
}

/// Every term unit, in the order the API documents them.
const UNITS: [TermUnit; 8] = [
    TermUnit::WorkingDays,
    TermUnit::CalendarDays,
    TermUnit::WorkingHours,
    TermUnit::Hours,
    TermUnit::Minutes,
    TermUnit::Seconds,
    TermUnit::Months,
    TermUnit::Years,
];

fn unit_schema() -> Schema {
    string_enum(UNITS.map(TermUnit::code).to_vec(), "The unit of the term (see the deadline engine's definitions)")
}

fn decree_kind_schema() -> Schema {
    string_enum(
        vec!["government_resolution", "ministry_order"],
        "Who moved the days off: the Government (until 2023) or the Minister of Labour (from 2024)",
    )
}

fn confidence_schema() -> Schema {
    string_enum(vec!["confirmed", "cross_checked", "unverified"], "How far the entry has been checked")
}

/// The largest `value` per unit: ten years of any term, so a request cannot make the server count for
/// ever (no passport term comes near).
fn max_value(unit: TermUnit) -> u32 {
    match unit {
        TermUnit::WorkingDays => 2_500,
        TermUnit::CalendarDays => 3_660,
        TermUnit::WorkingHours => 20_000,
        TermUnit::Hours => 87_840,
        TermUnit::Minutes => 1_200_000,
        TermUnit::Seconds => 72_000_000,
        TermUnit::Months => 120,
        TermUnit::Years => 10,
    }
}

fn check_year(year: &str) -> Result<i32, ApiError> {
    let y: i32 = year.parse().map_err(|_| ApiError::field("year", "type", "must be a year, e.g. 2026"))?;
    if !YEARS.contains(&y) {
        return Err(ApiError::field("year", "range", format!("must be between {} and {}", YEARS.start(), YEARS.end())));
    }
    Ok(y)
}

/// `at` with the calendar zone's offset of that moment: `2024-03-04T18:30:00+05:00`.
fn local_moment(cal: &BusinessCalendar, at: DateTime<Utc>) -> DateTime<FixedOffset> {
    let secs = (cal.to_local(at) - at.naive_utc()).num_seconds() as i32;
    let offset = FixedOffset::east_opt(secs).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    offset.from_utc_datetime(&at.naive_utc())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// Language of the texts (`kk`, `ru`, `en`); else `Accept-Language`, else `kk`.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
}

/// An act moving days off, with its citation in the requested language.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecreeView {
    #[schema(example = "mlsp-2024-05")]
    pub id: String,
    #[schema(schema_with = decree_kind_schema)]
    pub kind: String,
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    /// Year of the act when its exact date is not known.
    pub year: Option<i32>,
    /// Document code on adilet.zan.kz.
    pub adilet: Option<String>,
    #[schema(schema_with = confidence_schema)]
    pub confidence: String,
    pub note: Option<String>,
    /// How the act is cited in texts.
    #[schema(example = "order of the Minister of Labour and Social Protection of 2024-04-17")]
    pub citation: String,
}

impl DecreeView {
    fn new(d: &Decree, lang: Lang) -> Self {
        DecreeView {
            id: d.id.clone(),
            kind: code(&d.kind),
            number: d.number.clone(),
            date: d.date,
            year: d.year,
            adilet: d.adilet.clone(),
            confidence: code(&d.confidence),
            note: d.note.clone(),
            citation: d.citation(lang),
        }
    }
}

/// One day of the calendar and why it is what it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    pub date: NaiveDate,
    #[schema(example = "mon")]
    pub weekday: String,
    pub working: bool,
    /// `working`, `weekend`, `holiday`, `observed_holiday` (the day off for a holiday that fell on a
    /// weekend), `transferred_day_off` (a weekday made a day off by a decree) or `working_by_decree`.
    #[schema(example = "holiday")]
    pub kind: String,
    /// The reason in the requested language, e.g. "public holiday: Nauryz".
    pub reason: String,
    /// The holiday (for `holiday` and `observed_holiday`).
    #[schema(example = "nauryz")]
    pub holiday_id: Option<String>,
    pub holiday_name: Option<String>,
    /// Religious holidays are days off but never move to a weekday.
    pub religious: Option<bool>,
    /// For `observed_holiday`: the date of the holiday that fell on a weekend.
    pub holiday_date: Option<NaiveDate>,
    /// For `transferred_day_off`: the weekend day that became a working day in its place.
    pub moved_from: Option<NaiveDate>,
    /// For `working_by_decree`: the weekday that became a day off in its place.
    pub day_off_moved_to: Option<NaiveDate>,
    /// For `transferred_day_off` and `working_by_decree`: the act.
    pub decree: Option<DecreeView>,
}

impl DayView {
    fn new(d: &DayInfo, lang: Lang) -> Self {
        let kind =
            serde_json::to_value(&d.kind).ok().and_then(|v| v["kind"].as_str().map(String::from)).unwrap_or_default();
        let mut view = DayView {
            date: d.date,
            weekday: d.date.format("%a").to_string().to_ascii_lowercase(),
            working: d.working,
            kind,
            reason: d.kind.describe(lang),
            holiday_id: None,
            holiday_name: None,
            religious: None,
            holiday_date: None,
            moved_from: None,
            day_off_moved_to: None,
            decree: None,
        };
        match &d.kind {
            DayKind::Holiday { id, name, religious } => {
                view.holiday_id = Some(id.clone());
                view.holiday_name = Some(name.resolve(lang).to_string());
                view.religious = Some(*religious);
            }
            DayKind::ObservedHoliday { holiday_id, holiday_name, holiday_date } => {
                view.holiday_id = Some(holiday_id.clone());
                view.holiday_name = Some(holiday_name.resolve(lang).to_string());
                view.holiday_date = Some(*holiday_date);
            }
            DayKind::TransferredDayOff { from, decree } => {
                view.moved_from = Some(*from);
                view.decree = Some(DecreeView::new(decree, lang));
            }
            DayKind::WorkingByDecree { day_off_moved_to, decree } => {
                view.day_off_moved_to = Some(*day_off_moved_to);
                view.decree = Some(DecreeView::new(decree, lang));
            }
            DayKind::Working | DayKind::Weekend => {}
        }
        view
    }
}

/// Office hours, local time.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingHoursView {
    #[schema(example = "09:00")]
    pub start: String,
    #[schema(example = "18:30")]
    pub end: String,
    #[schema(example = "13:00")]
    pub lunch_start: String,
    #[schema(example = "14:30")]
    pub lunch_end: String,
    #[schema(example = 480)]
    pub minutes_per_day: u32,
    pub source: Option<String>,
}

/// From `from` on, local time is UTC + `utc_offset` (Almaty: +06:00 until 2024-02-29, +05:00 after).
#[derive(Debug, Serialize, ToSchema)]
pub struct OffsetPeriod {
    pub from: NaiveDate,
    #[schema(example = "+05:00")]
    pub utc_offset: String,
}

/// The first day of Kurban Ait (lunar, given per year).
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LunarDateInput {
    #[schema(example = "2026-05-27")]
    pub date: NaiveDate,
    #[serde(default)]
    #[schema(schema_with = confidence_schema)]
    pub confidence: Confidence,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// One transfer: `day_off` (a working weekday) becomes a day off, `working_day` (a weekend day, or an
/// observed day off) a working day, by the act `decree` of the same year.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    #[schema(example = "2024-05-08")]
    pub day_off: NaiveDate,
    #[schema(example = "2024-05-04")]
    pub working_day: NaiveDate,
    /// The `id` of one of the year's `decrees`.
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "mlsp-2024-05", min_length = 1, max_length = 64)]
    pub decree: String,
}

/// The act moving days off, as it is cited.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecreeInput {
    /// Referenced by transfers; unique across all years.
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "mlsp-2026-12", min_length = 1, max_length = 64)]
    pub id: String,
    #[schema(schema_with = decree_kind_schema)]
    pub kind: DecreeKind,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    /// Year of the act when its exact date is not known.
    pub year: Option<i32>,
    /// Document code on adilet.zan.kz.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub adilet: Option<String>,
    #[serde(default)]
    #[schema(schema_with = confidence_schema)]
    pub confidence: Confidence,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// One year of the calendar, in the caller's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYearView {
    pub year: i32,
    #[schema(example = "en")]
    pub lang: String,
    /// `data`: the year's Kurban Ait and decree transfers are known; `rules_only`: weekends, fixed
    /// holidays and their weekend transfers only (no Kurban Ait, no decrees): do not rely on it.
    #[schema(example = "data")]
    pub coverage: String,
    /// IANA zone the calendar counts local time in.
    #[schema(example = "Asia/Almaty")]
    pub zone: String,
    /// The zone's UTC offsets during the year, from the first day each applies.
    pub utc_offsets: Vec<OffsetPeriod>,
    pub working_hours: WorkingHoursView,
    /// Days off other than plain Saturdays and Sundays: holidays (also those on a weekend), days off
    /// for holidays that fell on a weekend, and weekdays made days off by a decree.
    pub days_off: Vec<DayView>,
    /// Weekend days made working days by a decree.
    pub working_weekend_days: Vec<DayView>,
    pub kurban_ait: Option<LunarDateInput>,
    pub decrees: Vec<DecreeView>,
    /// The year's transfers as data (the shape `PUT /api/v1/calendar/{year}` takes).
    pub transfers: Vec<TransferInput>,
    /// How far the year as a whole has been checked.
    pub confidence: Option<String>,
    pub notes: Option<String>,
    /// Working days in the year.
    pub working_days: usize,
    /// Every non-working day of the year, weekends included.
    pub non_working_days: usize,
}

impl CalendarYearView {
    pub fn new(cal: &BusinessCalendar, year: i32, lang: Lang) -> Self {
        let data = cal.year_data(year);
        let wh = cal.working_hours();
        let hhmm = |t: chrono::NaiveTime| t.format("%H:%M").to_string();
        let non_working = cal.non_working_days(year).len();
        let days_in_year = NaiveDate::from_ymd_opt(year, 12, 31).map_or(365, |d| d.ordinal() as usize);
        CalendarYearView {
            year,
            lang: lang.code().into(),
            coverage: code(&cal.coverage(year)),
            zone: cal.zone().to_string(),
            utc_offsets: utc_offsets(cal, year),
            working_hours: WorkingHoursView {
                start: hhmm(wh.start),
                end: hhmm(wh.end),
                lunch_start: hhmm(wh.lunch_start),
                lunch_end: hhmm(wh.lunch_end),
                minutes_per_day: wh.minutes_per_day(),
                source: wh.source.clone(),
            },
            days_off: cal.days_off(year).iter().map(|d| DayView::new(d, lang)).collect(),
            working_weekend_days: cal.working_weekend_days(year).iter().map(|d| DayView::new(d, lang)).collect(),
            kurban_ait: data.and_then(|y| y.kurban_ait.as_ref()).map(|k| LunarDateInput {
                date: k.date,
                confidence: k.confidence,
                note: k.note.clone(),
            }),
            decrees: data.map(|y| y.decrees.iter().map(|d| DecreeView::new(d, lang)).collect()).unwrap_or_default(),
            transfers: data
                .map(|y| {
                    y.transfers
                        .iter()
                        .map(|t| TransferInput {
                            day_off: t.day_off,
                            working_day: t.working_day,
                            decree: t.decree.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            confidence: data.and_then(|y| y.confidence).map(|c| code(&c)),
            notes: data.and_then(|y| y.notes.clone()),
            working_days: days_in_year - non_working,
            non_working_days: non_working,
        }
    }
}

/// The offsets in force during `year`, taken at each local midnight (Almaty changed at midnight).
fn utc_offsets(cal: &BusinessCalendar, year: i32) -> Vec<OffsetPeriod> {
    let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else { return vec![] };
    let mut out: Vec<OffsetPeriod> = Vec::new();
    for day in first.iter_days().take_while(|d| d.year() == year) {
        let offset = local_moment(cal, cal.from_local(day.and_hms_opt(12, 0, 0).expect("noon"))).offset().to_string();
        if out.last().is_none_or(|p| p.utc_offset != offset) {
            out.push(OffsetPeriod { from: day, utc_offset: offset });
        }
    }
    out
}

fn localized(lang: Lang, body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_LANGUAGE, lang.code())).json(body)
}

/// A year of the business calendar: every day off with its reason (holiday, the day off for a holiday
/// that fell on a weekend, a decree's transfer with its citation), the weekend days a decree made
/// working days, the decrees, working hours and the time zone.
///
/// Years without data (outside 2012-2027 unless an administrator added one) are answered from the
/// rules alone and say so with `coverage: rules_only`.
#[utoipa::path(
    tag = "calendar",
    operation_id = "getCalendarYear",
    params(("year" = i32, Path, description = "The year, 1991 to 2100", example = 2026, minimum = 1991, maximum = 2100), LangQuery),
    responses((status = 200, description = "The year's calendar", body = CalendarYearView)),
)]
#[get("/calendar/{year:[0-9]+}")]
pub async fn get_year(
    req: HttpRequest,
    state: web::Data<AppState>,
    year: web::Path<String>,
    q: ValidQuery<LangQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let year = check_year(&year)?;
    Ok(localized(lang, CalendarYearView::new(&state.calendar(), year, lang)))
}

fn channel_schema() -> Schema {
    string_enum(
        Channel::ALL.map(Channel::code).to_vec(),
        "The channel the application comes through (`portal`, `state_corporation`, `provider_office`, `education_organization`)",
    )
}

/// A term to count: from a moment, so many units, through a channel (and for a service). Its schema is
/// written out below ([`utoipa::PartialSchema`]): one object per unit with that unit's bound.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRequest {
    /// The moment of filing, RFC 3339 with its UTC offset.
    pub start: DateTime<FixedOffset>,
    /// How many units; the largest accepted depends on the unit (ten years of it). Leave `value` and
    /// `unit` out with a `service_key` to count that service's whole-service term for the channel.
    pub value: Option<u32>,
    pub unit: Option<TermUnit>,
    /// The channel the filing comes through: its hours decide from when the filing counts (the State
    /// Corporation takes filings Monday to Saturday 09:00-20:00, the provider's office Monday to Friday
    /// 09:00-18:30; on the portal a filing after 18:30, on a weekend or holiday counts from the next working
    /// day). With a `service_key`, the hours that service's passport states; without one, the hours order
    /// No 414 gives the channel in every service. Left out (and no service): the portal's rule, as before
    /// channels were distinguished.
    pub channel: Option<Channel>,
    /// A service (`GET /api/v1/services`): its passport version in force on the filing date gives the
    /// channel's hours and, when `value` and `unit` are left out, the term. Needs `channel`.
    #[validate(length(min = 1, max = 64))]
    pub service_key: Option<String>,
    /// The service's subtype, where its passport distinguishes subtypes (their terms differ).
    #[validate(length(min = 1, max = 64))]
    pub subtype: Option<String>,
}

/// The hours a deadline was counted on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelHoursView {
    /// `passport` (the service's schedule row), `calendar_rules` (the hours order No 414 gives the channel
    /// in every service) or `general` (no text states the channel's hours: the portal's rule on the
    /// provider's working time).
    #[schema(example = "passport")]
    pub origin: String,
    /// The hours in the requested language.
    pub hours: String,
    /// The channel takes filings around the clock (the portal).
    pub around_the_clock: bool,
    /// A filing after working hours, on a weekend or holiday counts from the next working day (the
    /// portal's rule).
    pub after_hours_next_working_day: bool,
    #[schema(example = "09:00")]
    pub opens: Option<String>,
    #[schema(example = "20:00")]
    pub closes: Option<String>,
    /// The lunch break, `[start, end]`, if there is one.
    pub lunch: Option<Vec<String>>,
    /// Open on Saturdays (the State Corporation).
    pub saturdays: bool,
    /// The provider's working time: working minutes are counted in it, and a term in days ends when it
    /// ends on the last day.
    pub working_time_start: String,
    pub working_time_end: String,
    /// Where the hours are stated: `"004:2494-2510 | Order 414, Appendix 6, row 7, subparagraph 2"`.
    pub source: Option<String>,
}

impl ChannelHoursView {
    fn new(s: &Schedule, lang: Lang) -> Self {
        let hhmm = |t: chrono::NaiveTime| t.format("%H:%M").to_string();
        let (around, next, opens, closes, lunch, saturdays) = match &s.intake {
            Intake::AroundTheClock { next_working_day } => (true, *next_working_day, None, None, None, false),
            Intake::Office { hours, saturdays } => (
                false,
                false,
                Some(hhmm(hours.start)),
                Some(hhmm(hours.end)),
                hours.lunch.map(|(a, b)| vec![hhmm(a), hhmm(b)]),
                *saturdays,
            ),
        };
        ChannelHoursView {
            origin: code(&s.origin),
            hours: s.describe(lang),
            around_the_clock: around,
            after_hours_next_working_day: next,
            opens,
            closes,
            lunch,
            saturdays,
            working_time_start: hhmm(s.working_time.start),
            working_time_end: hhmm(s.working_time.end),
            source: s.source.clone(),
        }
    }
}

impl utoipa::ToSchema for DeadlineRequest {}

/// `start` must fall in a year the calendar covers ([`YEARS`], 1991-2100, in Kazakhstan's time). JSON
/// Schema has no bounds for date-times, so a pattern says it: any date from 1991-01-02 to 2100-12-30,
/// which lies in 1991-2100 whatever the UTC offset (the two edge days depend on it and are left out).
const START_PATTERN: &str = "^(?:(?:199[2-9]|20[0-9]{2})-|1991-(?:0[2-9]|1[0-2])-|1991-01-(?:0[2-9]|[12][0-9]|3[01])T|\
                             2100-(?:0[1-9]|1[01])-|2100-12-(?:[012][0-9]|30)T)";

/// One object schema per unit, each with that unit's largest `value` ([`max_value`]), so the spec says
/// exactly what the server accepts (`{"value": 2147483646, "unit": "working_days"}` is outside it).
impl utoipa::PartialSchema for DeadlineRequest {
    fn schema() -> utoipa::openapi::RefOr<Schema> {
        let start = json!({"type": "string", "format": "date-time", "pattern": START_PATTERN,
                           "description": "The moment of filing, RFC 3339 with its UTC offset, in 1991-2100."});
        let channel = json!({"type": "string", "enum": Channel::ALL.map(Channel::code),
                             "description": "The channel the filing comes through: its hours decide from when the filing counts. \
                                             Left out (and no service): the portal's rule."});
        let service_key = json!({"type": "string", "minLength": 1, "maxLength": 64,
                                 "description": "A service: its passport in force on the filing date gives the channel's hours \
                                                 and, without `value` and `unit`, the term. Needs `channel`."});
        let subtype = json!({"type": "string", "minLength": 1, "maxLength": 64,
                             "description": "The service's subtype, where its passport distinguishes subtypes."});
        let mut variants: Vec<Value> = UNITS
            .iter()
            .map(|u| {
                json!({
                    "type": "object",
                    "title": u.code(),
                    "required": ["start", "value", "unit"],
                    "additionalProperties": false,
                    "properties": {
                        "start": start,
                        "value": {"type": "integer", "format": "int32", "minimum": 0, "maximum": max_value(*u),
                                  "description": format!("How many {}; at most {} (ten years of it).", u.code(), max_value(*u))},
                        "unit": {"type": "string", "enum": [u.code()]},
                        "channel": channel,
                        "service_key": service_key,
                        "subtype": subtype,
                    },
                })
            })
            .collect();
        variants.push(json!({
            "type": "object",
            "title": "service_term",
            "description": "The service's own whole-service term for the channel.",
            "required": ["start", "channel", "service_key"],
            "additionalProperties": false,
            "properties": {"start": start, "channel": channel, "service_key": service_key, "subtype": subtype},
        }));
        let schema = json!({
            "description": "A term to count: from a moment, so many units (the largest `value` depends on the unit: \
                            one schema per unit), through a channel and for a service; or a service's own term.",
            "oneOf": variants,
            "example": {"start": "2026-11-21T10:00:00+05:00", "channel": "state_corporation", "service_key": "deprived_parent_meeting_permission"},
        });
        serde_json::from_value(schema).expect("a valid schema")
    }
}

/// When a term ends, and why, step by step.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    #[schema(example = "en")]
    pub lang: String,
    #[schema(example = "Asia/Almaty")]
    pub zone: String,
    /// The filing moment in UTC.
    pub start: DateTime<Utc>,
    /// The filing moment in local time, with the offset then in force.
    pub start_local: DateTime<FixedOffset>,
    pub value: u32,
    #[schema(schema_with = unit_schema)]
    pub unit: String,
    /// The channel asked for; absent when none was given (the general rule).
    #[schema(schema_with = channel_schema)]
    pub channel: Option<String>,
    /// The service, its passport version in force on the filing date and the subtype, when one was asked.
    pub service_key: Option<String>,
    #[schema(example = "order-414-2022")]
    pub version: Option<String>,
    pub subtype: Option<String>,
    /// The passport term counted, when `value` and `unit` were taken from the service.
    #[schema(example = "service_term")]
    pub term: Option<String>,
    /// The hours the filing was counted on.
    pub schedule: ChannelHoursView,
    /// The moment the term counts from: the filing itself when the channel takes it then, else the
    /// channel's next opening (an office) or 09:00 of the next working day (the portal).
    pub counted_from: DateTime<Utc>,
    pub counted_from_local: DateTime<FixedOffset>,
    /// The end of the term, UTC.
    pub due_at: DateTime<Utc>,
    /// The end of the term in local time, with the offset then in force.
    pub due_local: DateTime<FixedOffset>,
    /// The last day of the term, local date.
    pub due_date: NaiveDate,
    /// `rules_only` when a year the term crosses has no calendar data.
    #[schema(example = "data")]
    pub coverage: String,
    /// The steps in the requested language.
    pub explanation: Vec<String>,
    /// The same steps as data (`step` names the kind).
    #[schema(value_type = Vec<Object>)]
    pub steps: Value,
}

/// What the deadline was asked for, beyond the arithmetic.
struct Asked<'a> {
    channel: Option<Channel>,
    passport: Option<&'a Passport>,
    subtype: Option<String>,
    term: Option<&'a Term>,
}

impl DeadlineView {
    fn new(cal: &BusinessCalendar, d: &Deadline, schedule: &Schedule, asked: &Asked<'_>, lang: Lang) -> Self {
        let counted_from = cal.from_local(d.counted_from);
        DeadlineView {
            lang: lang.code().into(),
            zone: cal.zone().to_string(),
            start: d.filed_at,
            start_local: local_moment(cal, d.filed_at),
            value: d.value,
            unit: d.unit.code().into(),
            channel: asked.channel.map(|c| c.code().to_string()),
            service_key: asked.passport.map(|p| p.key.clone()),
            version: asked.passport.map(|p| p.version.clone()),
            subtype: asked.subtype.clone(),
            term: asked.term.map(|t| t.code.clone()),
            schedule: ChannelHoursView::new(schedule, lang),
            counted_from,
            counted_from_local: local_moment(cal, counted_from),
            due_at: d.due_at,
            due_local: local_moment(cal, d.due_at),
            due_date: d.due_date,
            coverage: code(&d.coverage),
            explanation: d.explain(lang),
            steps: serde_json::to_value(&d.steps).unwrap_or(Value::Null),
        }
    }
}

/// Count a term on the business calendar: the due moment and an explanation of every day counted or
/// skipped and why (the same arithmetic that gives applications their due dates).
///
/// The filing counts on the hours of its `channel`: at the State Corporation (Monday to Saturday
/// 09:00-20:00) a filing on a Saturday or at 19:00 counts from that day; at the provider's office (Monday
/// to Friday 09:00-18:30) and on the portal one after 18:30, or on a day off, counts from the next working
/// day at 09:00 (an office takes it at its next opening). With a `service_key` the passport in force on the
/// filing date gives the channel's hours and, without `value` and `unit`, the whole-service term, so the
/// due date is the one an application filed then would get. The filing day is not counted; a term in days
/// ends at 18:30 local time of its last day (the provider's working time).
#[utoipa::path(
    tag = "calendar",
    operation_id = "computeDeadline",
    params(LangQuery),
    request_body(content = DeadlineRequest, content_type = "application/json"),
    responses((status = 200, description = "The due moment and its explanation", body = DeadlineView)),
)]
#[post("/calendar/deadline")]
pub async fn compute_deadline(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: ValidQuery<LangQuery>,
    body: ValidJson<DeadlineRequest>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let body = body.0;
    let cal = state.calendar();
    let catalog = state.catalog();
    let start = body.start.with_timezone(&Utc);
    let mut errors = Vec::new();
    let filed_on = cal.to_local(start).date();
    if !YEARS.contains(&filed_on.year()) {
        errors.push(FieldError::new(
            "start",
            "range",
            format!("must lie between {} and {}", YEARS.start(), YEARS.end()),
        ));
    }
    let passport = match body.service_key.as_deref() {
        None => None,
        Some(key) => match catalog.service(key) {
            None => {
                errors.push(FieldError::new(
                    "service_key",
                    "unknown_service",
                    format!("no service `{key}`; see GET /api/v1/services"),
                ));
                None
            }
            Some(service) => {
                let p = service.in_force(filed_on);
                if p.is_none() {
                    errors.push(FieldError::new(
                        "service_key",
                        "service_not_in_force",
                        format!("`{key}` has no passport version in force on {filed_on}"),
                    ));
                }
                p
            }
        },
    };
    if let Some(p) = passport {
        match body.channel {
            None => errors.push(FieldError::new(
                "channel",
                "required",
                "give the channel the application comes through: the service's hours differ by channel",
            )),
            Some(c) if !p.channels.contains(&c) => errors.push(FieldError::new(
                "channel",
                "channel_not_offered",
                format!(
                    "`{}` is not offered through {}; its channels: {}",
                    p.key,
                    c.code(),
                    p.channels.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(_) => {}
        }
        if body.subtype.is_none() && !p.subtypes.is_empty() && body.value.is_none() && body.unit.is_none() {
            errors.push(FieldError::new(
                "subtype",
                "required",
                format!(
                    "`{}` has a term per subtype: give one of {}",
                    p.key,
                    p.subtypes.iter().map(|s| s.code.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if let Some(sub) = body.subtype.as_deref() {
            if !p.subtypes.iter().any(|s| s.code == sub) {
                errors.push(FieldError::new(
                    "subtype",
                    "unknown_subtype",
                    format!("`{}` has no subtype `{sub}`", p.key),
                ));
            }
        }
    } else if body.subtype.is_some() && body.service_key.is_none() {
        errors.push(FieldError::new("subtype", "requires_service_key", "a subtype needs its service_key"));
    }
    let term = match (passport, body.channel, body.value, body.unit) {
        (Some(p), Some(c), None, None) if errors.is_empty() => {
            let t = p.service_term(c, body.subtype.as_deref());
            if t.is_none() {
                errors.push(FieldError::new(
                    "value",
                    "required",
                    format!(
                        "`{}` states no whole-service term for {}{}; give value and unit",
                        p.key,
                        c.code(),
                        body.subtype.as_deref().map(|s| format!(", subtype {s}")).unwrap_or_default()
                    ),
                ));
            }
            t
        }
        _ => None,
    };
    let (value, unit) = match (term, body.value, body.unit) {
        (Some(t), _, _) => (t.value, t.unit),
        (None, Some(v), Some(u)) => (v, u),
        (None, Some(_), None) => {
            errors.push(FieldError::new("unit", "required", "give unit with value"));
            (0, TermUnit::WorkingDays)
        }
        (None, None, Some(_)) => {
            errors.push(FieldError::new("value", "required", "give value with unit"));
            (0, TermUnit::WorkingDays)
        }
        (None, None, None) => {
            // With a service_key the reason is already reported (unknown service, no channel, no term).
            if body.service_key.is_none() {
                errors.push(FieldError::new(
                    "value",
                    "required",
                    "give value and unit, or a service_key and channel to count the service's term",
                ));
            }
            (0, TermUnit::WorkingDays)
        }
    };
    if value > max_value(unit) {
        errors.push(FieldError::new("value", "range", format!("at most {} {}", max_value(unit), unit.code())));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let schedule = match (passport, body.channel) {
        (Some(p), Some(c)) => p.schedule(c, &cal),
        (None, Some(c)) => cal.channel_schedule(c),
        _ => Schedule::general(&cal),
    };
    let d = match term {
        Some(t) => deadline::due_for(&cal, &schedule, start, t),
        None => deadline::due_on(&cal, &schedule, start, value, unit),
    };
    let asked = Asked { channel: body.channel, passport, subtype: body.subtype.clone(), term };
    Ok(localized(lang, DeadlineView::new(&cal, &d, &schedule, &asked, lang)))
}

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
    /// Open applications whose due date moved (the others kept theirs).
    pub recomputed: Vec<RecomputedApplication>,
}

/// Record a year of the calendar (administrators): typically a new decree moving days off.
///
/// The year is replaced whole and validated as the shipped data is (every transfer cites a decree of
/// the year, makes an ordinary weekday a day off and a weekend day a working day). In the same
/// transaction the due date of every open application is recomputed on the new calendar from its
/// filing moment and its passport's service term; each one that moves gets a `calendar_changed` history
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
    let (change_id, next, recomputed) = web::block(move || -> Result<_, ApiError> {
        let _one_at_a_time = CHANGING.lock().unwrap_or_else(|p| p.into_inner());
        let current = state2.calendar();
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
        let catalog = state2.catalog();
        let recomputed = state2.db.write_with(|c| -> Result<_, ApiError> {
            persistence::calendar::insert(c, &change)?;
            recompute_open_applications(c, &catalog, &bearing)
        })?;
        // Only once committed: a failed transaction leaves the calendar in force untouched.
        state2.replace_calendar(next.clone());
        Ok((change.id, next, recomputed))
    })
    .await??;
    Ok(localized(
        lang,
        CalendarChangeResult { change_id, calendar: CalendarYearView::new(&next, year, lang), recomputed },
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

/// Recomputes the due date of every open application on `next` (`domain::application::recompute_due`),
/// writing each one that moves with its history entry and event, in the caller's transaction.
fn recompute_open_applications(
    c: &mut DbConnection,
    catalog: &Catalog,
    change: &CalendarChange<'_>,
) -> Result<Vec<RecomputedApplication>, ApiError> {
    let mut moved = Vec::new();
    for app in repo::open(c)? {
        let Some(passport) = catalog.service(&app.service_key).and_then(|s| s.version(&app.passport_version)) else {
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
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_pattern_admits_only_moments_the_server_accepts() {
        let re = regex::Regex::new(START_PATTERN).unwrap();
        let cal = BusinessCalendar::kazakhstan();
        let accepted = |s: &str| {
            let start = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            YEARS.contains(&cal.to_local(start).year())
        };
        let mut matched = 0;
        for year in [1990, 1991, 1992, 2026, 2099, 2100, 2101] {
            for (m, d) in [(1, 1), (1, 2), (1, 31), (2, 1), (6, 15), (12, 1), (12, 30), (12, 31)] {
                for time in ["00:00:00", "12:00:00", "23:59:59"] {
                    for offset in ["-12:00", "Z", "+05:00", "+14:00"] {
                        let s = format!("{year:04}-{m:02}-{d:02}T{time}{offset}");
                        if re.is_match(&s) {
                            matched += 1;
                            assert!(accepted(&s), "{s} fits the schema but the server refuses it");
                        }
                    }
                }
            }
        }
        assert!(re.is_match("2025-03-21T18:31:00+05:00") && !re.is_match("0001-01-01T00:00:00Z"));
        assert!(matched > 400, "{matched}");
    }

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
