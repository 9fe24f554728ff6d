//! The calendar resource's shapes and bounds: the years the API answers for, the term units and
//! their limits, a year of the calendar and a counted deadline as the caller reads them.

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use domain::calendar::{BusinessCalendar, Confidence, DayInfo, DayKind, Decree, DecreeKind, Intake, Schedule};
use domain::deadline::Deadline;
use domain::passport::{Channel, Passport, Term, TermUnit};
use domain::text::Lang;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::error::ApiError;
pub use crate::views::{code, localized};

/// Years the API answers for: the Republic's own calendar starts in 1991; beyond 2100 nothing is
/// meaningful (no data, and the rules themselves will have changed).
pub const YEARS: RangeInclusive<i32> = 1991..=2100;

pub fn string_enum(values: Vec<&'static str>, description: &str) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(values))
            .description(Some(description))
            .build(),
    )
}

/// Every term unit, in the order the API documents them.
pub const UNITS: [TermUnit; 8] = [
    TermUnit::WorkingDays,
    TermUnit::CalendarDays,
    TermUnit::WorkingHours,
    TermUnit::Hours,
    TermUnit::Minutes,
    TermUnit::Seconds,
    TermUnit::Months,
    TermUnit::Years,
];

pub fn unit_schema() -> Schema {
    string_enum(UNITS.map(TermUnit::code).to_vec(), "The unit of the term (see the deadline engine's definitions)")
}

pub fn decree_kind_schema() -> Schema {
    string_enum(
        vec!["government_resolution", "ministry_order"],
        "Who moved the days off: the Government (until 2023) or the Minister of Labour (from 2024)",
    )
}

pub fn confidence_schema() -> Schema {
    string_enum(vec!["confirmed", "cross_checked", "unverified"], "How far the entry has been checked")
}

/// The largest `value` per unit: ten years of any term, so a request cannot make the server count for
/// ever (no passport term comes near).
pub fn max_value(unit: TermUnit) -> u32 {
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

pub fn check_year(year: &str) -> Result<i32, ApiError> {
    let y: i32 = year.parse().map_err(|_| ApiError::field("year", "type", "must be a year, e.g. 2026"))?;
    if !YEARS.contains(&y) {
        return Err(ApiError::field("year", "range", format!("must be between {} and {}", YEARS.start(), YEARS.end())));
    }
    Ok(y)
}

/// `at` with the calendar zone's offset of that moment: `2024-03-04T18:30:00+05:00`.
pub fn local_moment(cal: &BusinessCalendar, at: DateTime<Utc>) -> DateTime<FixedOffset> {
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
pub fn utc_offsets(cal: &BusinessCalendar, year: i32) -> Vec<OffsetPeriod> {
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
    pub fn new(s: &Schedule, lang: Lang) -> Self {
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
    #[schema(schema_with = optional_channel_schema)]
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
pub struct Asked<'a> {
    pub channel: Option<Channel>,
    pub passport: Option<&'a Passport>,
    pub subtype: Option<String>,
    pub term: Option<&'a Term>,
}

impl DeadlineView {
    pub fn new(cal: &BusinessCalendar, d: &Deadline, schedule: &Schedule, asked: &Asked<'_>, lang: Lang) -> Self {
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

pub fn channel_schema() -> Schema {
    string_enum(
        Channel::ALL.map(Channel::code).to_vec(),
        "The channel the application comes through (`portal`, `state_corporation`, `provider_office`, `education_organization`)",
    )
}

/// A channel code, or null when none was asked.
pub fn optional_channel_schema() -> Schema {
    let mut values: Vec<serde_json::Value> = Channel::ALL.iter().map(|c| serde_json::json!(c.code())).collect();
    values.push(serde_json::Value::Null);
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
            .enum_values(Some(values))
            .description(Some("The channel asked for; null when none was given (the general rule)"))
            .build(),
    )
}
