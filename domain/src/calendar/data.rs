//! The calendar's data files as types: `domain/catalog/calendar/rules.yaml` ([`Rules`]) and one
//! `<year>.yaml` per year ([`YearData`]). The same types arrive as JSON when an admin adds or edits a
//! year's transfers, so everything here is plain serde data with no behaviour beyond validation.

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use crate::passport::OfficeHours;
use crate::text::Text;

/// The regular part of the calendar: holidays with the years they were in force, the weekend rule, working
/// hours and the zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub country: String,
    /// IANA zone name, e.g. `Asia/Almaty`.
    pub zone: String,
    /// Days of a normal working week, `mon`..`sun`.
    pub working_week: Vec<WeekdayCode>,
    /// The provider's working time (Labour Code working week; order No 414, row 7 subparagraph 1 of every
    /// service): working minutes are counted in it and a term in days ends when it ends.
    pub working_hours: WorkingHours,
    /// The hours order No 414 gives each channel in every service (row 7 of each list of main
    /// requirements): what a deadline asked for a channel without naming a service is counted on. A
    /// passport's own rows take precedence (`Passport::schedule`).
    #[serde(default)]
    pub channel_hours: Vec<OfficeHours>,
    pub observed_rule: ObservedRule,
    pub transfer_rule: TransferRule,
    pub law: String,
    pub holidays: Vec<HolidayRule>,
}

/// A weekday as written in the data (`mon`, `tue`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeekdayCode {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl From<WeekdayCode> for Weekday {
    fn from(w: WeekdayCode) -> Weekday {
        match w {
            WeekdayCode::Mon => Weekday::Mon,
            WeekdayCode::Tue => Weekday::Tue,
            WeekdayCode::Wed => Weekday::Wed,
            WeekdayCode::Thu => Weekday::Thu,
            WeekdayCode::Fri => Weekday::Fri,
            WeekdayCode::Sat => Weekday::Sat,
            WeekdayCode::Sun => Weekday::Sun,
        }
    }
}

/// Office hours (жұмыс уақыты): the day `start..end` minus the lunch break `lunch_start..lunch_end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    #[serde(with = "hhmm")]
    pub start: NaiveTime,
    #[serde(with = "hhmm")]
    pub end: NaiveTime,
    #[serde(with = "hhmm")]
    pub lunch_start: NaiveTime,
    #[serde(with = "hhmm")]
    pub lunch_end: NaiveTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl WorkingHours {
    /// Working minutes in a full working day (480 for 09:00-18:30 with a 90-minute lunch).
    pub fn minutes_per_day(&self) -> u32 {
        let span = (self.end - self.start).num_minutes() - (self.lunch_end - self.lunch_start).num_minutes();
        span.max(0) as u32
    }

    /// Whether `t` lies inside office hours, lunch included: the lunch break does not move a filing.
    pub fn is_open(&self, t: NaiveTime) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether `t` lies in the lunch break.
    pub fn is_lunch(&self, t: NaiveTime) -> bool {
        self.lunch_start <= t && t < self.lunch_end
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(self.start < self.lunch_start && self.lunch_start <= self.lunch_end && self.lunch_end < self.end) {
            return Err("working hours must read start < lunch_start <= lunch_end < end".into());
        }
        Ok(())
    }
}

/// The Labour Code rule: a non-religious holiday on a weekend gives a day off on the next working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedRule {
    /// First year the rule applies.
    pub since: i32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRule {
    pub source: String,
}

/// One holiday of the Law "On holidays" (мереке күні), fixed by date or lunar (date given per year).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayRule {
    pub id: String,
    /// `MM-DD` dates; empty for a lunar holiday.
    #[serde(default)]
    pub dates: Vec<String>,
    /// Lunar: the date comes from each year's data (`kurban_ait`).
    #[serde(default)]
    pub lunar: bool,
    /// Religious holidays are days off but never move to the next working day when on a weekend.
    #[serde(default)]
    pub religious: bool,
    /// First and last year in force (inclusive); open when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i32>,
    pub name: Text,
    /// Later names of the holiday, each from the year it was given (e.g. Republic Day, renamed in 2026).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<Renaming>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the law says it (act, article, amendment); shown with the holiday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A new name of a holiday from a year on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renaming {
    pub from: i32,
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl HolidayRule {
    pub fn in_force(&self, year: i32) -> bool {
        !matches!(self.from, Some(f) if year < f) && !matches!(self.to, Some(t) if year > t)
    }

    /// The holiday's name in `year`: the latest renaming in force, else its first name.
    pub fn name_in(&self, year: i32) -> &Text {
        self.renamed.iter().filter(|r| r.from <= year).max_by_key(|r| r.from).map_or(&self.name, |r| &r.name)
    }

    /// The holiday's dates in `year` (fixed holidays only).
    pub fn dates_in(&self, year: i32) -> Result<Vec<NaiveDate>, String> {
        self.dates
            .iter()
            .map(|md| {
                let (m, d) =
                    md.split_once('-').ok_or_else(|| format!("holiday {}: date `{md}` is not MM-DD", self.id))?;
                let (m, d): (u32, u32) = (
                    m.parse().map_err(|_| format!("holiday {}: bad month in `{md}`", self.id))?,
                    d.parse().map_err(|_| format!("holiday {}: bad day in `{md}`", self.id))?,
                );
                NaiveDate::from_ymd_opt(year, m, d).ok_or_else(|| format!("holiday {}: `{md}` is no date", self.id))
            })
            .collect()
    }
}

/// How far a data entry has been checked. `unverified` entries are listed in the calendar README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The act's text or the government's own announcement was read.
    Confirmed,
    /// Two independent secondary sources agree.
    CrossChecked,
    /// One secondary source or an estimate: check before relying on it.
    #[default]
    Unverified,
}

/// One year's own facts: Kurban Ait, the acts moving days off, and the transfers they make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearData {
    pub year: i32,
    pub kurban_ait: Option<LunarDate>,
    #[serde(default)]
    pub decrees: Vec<Decree>,
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Confidence of the year as a whole (e.g. "no decree known" for a future year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LunarDate {
    pub date: NaiveDate,
    #[serde(default)]
    pub confidence: Confidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Who moved the days off: the Government (until 2023) or the Minister of Labour (from 2024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecreeKind {
    /// Қазақстан Республикасы Үкіметінің қаулысы / постановление Правительства РК.
    GovernmentResolution,
    /// Еңбек және халықты әлеуметтік қорғау министрінің бұйрығы / приказ Министра труда и соцзащиты.
    MinistryOrder,
}

/// An act moving days off, as cited in the data. Number and date are optional because not every act could
/// be identified; `confidence` and `note` say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decree {
    /// Id referenced by transfers, unique across all years.
    pub id: String,
    pub kind: DecreeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Year of the act when the exact date is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Document code on adilet.zan.kz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adilet: Option<String>,
    #[serde(default)]
    pub confidence: Confidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One transfer: `day_off` (a weekday) becomes a day off, `working_day` (normally a weekend day) a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub day_off: NaiveDate,
    pub working_day: NaiveDate,
    /// Id of a [`Decree`] of the same file.
    pub decree: String,
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M").map_err(serde::de::Error::custom)
    }
}

/// The shipped data, embedded at compile time (the crate does no I/O).
pub(crate) const RULES_YAML: &str = include_str!("../../catalog/calendar/rules.yaml");

pub(crate) const YEARS_YAML: &[(&str, &str)] = &[
    ("2012.yaml", include_str!("../../catalog/calendar/2012.yaml")),
    ("2013.yaml", include_str!("../../catalog/calendar/2013.yaml")),
    ("2014.yaml", include_str!("../../catalog/calendar/2014.yaml")),
    ("2015.yaml", include_str!("../../catalog/calendar/2015.yaml")),
    ("2016.yaml", include_str!("../../catalog/calendar/2016.yaml")),
    ("2017.yaml", include_str!("../../catalog/calendar/2017.yaml")),
    ("2018.yaml", include_str!("../../catalog/calendar/2018.yaml")),
    ("2019.yaml", include_str!("../../catalog/calendar/2019.yaml")),
    ("2020.yaml", include_str!("../../catalog/calendar/2020.yaml")),
    ("2021.yaml", include_str!("../../catalog/calendar/2021.yaml")),
    ("2022.yaml", include_str!("../../catalog/calendar/2022.yaml")),
    ("2023.yaml", include_str!("../../catalog/calendar/2023.yaml")),
    ("2024.yaml", include_str!("../../catalog/calendar/2024.yaml")),
    ("2025.yaml", include_str!("../../catalog/calendar/2025.yaml")),
    ("2026.yaml", include_str!("../../catalog/calendar/2026.yaml")),
    ("2027.yaml", include_str!("../../catalog/calendar/2027.yaml")),
];
