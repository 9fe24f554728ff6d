//! The Kazakh business calendar (өндірістік күнтізбе / производственный календарь) as data.
//!
//! A day is a working day unless it is a weekend day, a public holiday (мереке күні), the day off that
//! replaces a non-religious holiday which fell on a weekend (Labour Code art. 85 p. 2), or a weekday made a
//! day off by a transfer act (Labour Code art. 85 p. 3); a weekend day that such an act makes a working
//! day is a working day. Religious holidays (Orthodox Christmas, the first day of Kurban Ait) are days off
//! but are never moved.
//!
//! The regular part comes from `domain/catalog/calendar/rules.yaml`; each year's Kurban Ait date and
//! transfers from `<year>.yaml` (2012..=2027 are shipped, see [`BusinessCalendar::kazakhstan`]). The API
//! can build a calendar from other data ([`BusinessCalendar::new`]) or replace one year
//! ([`BusinessCalendar::with_year`]) when an admin records a new decree.
//!
//! **Channels.** Which hours a filing counts in depends on the channel it comes through ([`schedule`]:
//! the State Corporation Monday to Saturday 09:00-20:00, the portal's next-working-day rule, the
//! provider's office 09:00-18:30); `rules.yaml` gives the provider's working time (`working_hours`) and the
//! hours order No 414 gives each channel in every service (`channel_hours`, [`BusinessCalendar::channel_schedule`]).
//!
//! **Years outside the data.** [`BusinessCalendar::day`] and everything built on it never fail: for a
//! year without a data file they fall back to the rules only (weekends, fixed holidays, weekend
//! transfers), with no Kurban Ait and no decree transfers, and say so with [`Coverage::RulesOnly`] on the
//! returned [`DayInfo`]. Callers that must not guess use [`BusinessCalendar::try_day`] or
//! [`BusinessCalendar::check_year`], which return [`CalendarError::OutsideData`].
//!
//! **Time.** Working hours and dates are local to the calendar's zone ([`chrono_tz::Tz`], `Asia/Almaty`
//! by default). Almaty was UTC+6 until 2024-02-29 and is UTC+5 from 2024-03-01 (single national zone);
//! the zone database carries that change, so [`BusinessCalendar::to_local`] and
//! [`BusinessCalendar::from_local`] are right on both sides of it. A provider in the west can use
//! [`BusinessCalendar::with_zone`] (e.g. `Asia/Aqtobe`).

pub mod data;
pub mod schedule;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use data::{
    Confidence, Decree, DecreeKind, HolidayRule, LunarDate, Renaming, Rules, Transfer, WorkingHours, YearData,
};
pub use schedule::{DayHours, Intake, Schedule, ScheduleOrigin};

use crate::passport::Channel;
use crate::text::{Lang, Text};

/// Why a calendar could not be built or asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar data `{file}`: {message}")]
    Parse { file: String, message: String },
    #[error("calendar data: {0}")]
    Invalid(String),
    #[error("year {year} has no calendar data (data years: {first}..={last}); only the rules would apply")]
    OutsideData { year: i32, first: i32, last: i32 },
    #[error("unknown time zone `{0}`")]
    UnknownZone(String),
}

/// Whether an answer rests on a year's data or on the rules alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// The year has a data file: Kurban Ait and the decree transfers are known.
    Data,
    /// No data for the year: weekends, fixed holidays and weekend transfers only.
    RulesOnly,
}

/// What a day is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    Working,
    /// Saturday or Sunday (демалыс күні).
    Weekend,
    /// A public holiday (мереке күні), whatever weekday it falls on.
    Holiday {
        id: String,
        name: Text,
        religious: bool,
    },
    /// A weekday made a day off by a transfer act; `from` is the weekend day that became a working day.
    TransferredDayOff {
        from: NaiveDate,
        decree: Decree,
    },
    /// A day made a working day by a transfer act (normally a Saturday or Sunday); its day off moved to
    /// `day_off_moved_to`.
    WorkingByDecree {
        day_off_moved_to: NaiveDate,
        decree: Decree,
    },
    /// The day off for a non-religious holiday that fell on a weekend (ауыстырылған демалыс күні).
    ObservedHoliday {
        holiday_id: String,
        holiday_name: Text,
        holiday_date: NaiveDate,
    },
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Working | DayKind::WorkingByDecree { .. })
    }

    /// A short reason in `lang`, e.g. "public holiday: Nauryz".
    pub fn describe(&self, lang: Lang) -> String {
        match (self, lang) {
            (DayKind::Working, Lang::Kk) => "жұмыс күні".into(),
            (DayKind::Working, Lang::Ru) => "рабочий день".into(),
            (DayKind::Working, Lang::En) => "working day".into(),
            (DayKind::Weekend, Lang::Kk) => "демалыс күні".into(),
            (DayKind::Weekend, Lang::Ru) => "выходной день".into(),
            (DayKind::Weekend, Lang::En) => "weekend".into(),
            (DayKind::Holiday { name, .. }, Lang::Kk) => {
                format!("мереке күні: {}", name.resolve(lang))
            }
            (DayKind::Holiday { name, .. }, Lang::Ru) => {
                format!("праздничный день: {}", name.resolve(lang))
            }
            (DayKind::Holiday { name, .. }, Lang::En) => {
                format!("public holiday: {}", name.resolve(lang))
            }
            (DayKind::TransferredDayOff { from, decree }, Lang::Kk) => {
                format!("{} күнінен ауыстырылған демалыс күні ({})", fmt_date(*from, lang), decree.citation(lang))
            }
            (DayKind::TransferredDayOff { from, decree }, Lang::Ru) => {
                format!("выходной день, перенесённый с {} ({})", fmt_date(*from, lang), decree.citation(lang))
            }
            (DayKind::TransferredDayOff { from, decree }, Lang::En) => {
                format!("day off moved from {} ({})", fmt_date(*from, lang), decree.citation(lang))
            }
            (DayKind::WorkingByDecree { day_off_moved_to, decree }, Lang::Kk) => format!(
                "жұмыс күні ({}); демалыс {} күніне ауыстырылды",
                decree.citation(lang),
                fmt_date(*day_off_moved_to, lang)
            ),
            (DayKind::WorkingByDecree { day_off_moved_to, decree }, Lang::Ru) => format!(
                "рабочий день ({}); выходной перенесён на {}",
                decree.citation(lang),
                fmt_date(*day_off_moved_to, lang)
            ),
            (DayKind::WorkingByDecree { day_off_moved_to, decree }, Lang::En) => format!(
                "working day ({}); its day off moved to {}",
                decree.citation(lang),
                fmt_date(*day_off_moved_to, lang)
            ),
            (DayKind::ObservedHoliday { holiday_name, holiday_date, .. }, Lang::Kk) => format!(
                "демалыс күнге түскен мерекенің ({}, {}) орнына берілетін демалыс күні",
                holiday_name.resolve(lang),
                fmt_date(*holiday_date, lang)
            ),
            (DayKind::ObservedHoliday { holiday_name, holiday_date, .. }, Lang::Ru) => format!(
                "выходной день вместо праздника, совпавшего с выходным ({}, {})",
                holiday_name.resolve(lang),
                fmt_date(*holiday_date, lang)
            ),
            (DayKind::ObservedHoliday { holiday_name, holiday_date, .. }, Lang::En) => format!(
                "day off for {} of {}, which fell on a weekend",
                holiday_name.resolve(lang),
                fmt_date(*holiday_date, lang)
            ),
        }
    }
}

impl Decree {
    /// How the act is cited in texts: "Government resolution No 864 of 2017".
    pub fn citation(&self, lang: Lang) -> String {
        let when = match (self.date, self.year) {
            (Some(d), _) => Some(fmt_date(d, lang)),
            (None, Some(y)) => Some(y.to_string()),
            (None, None) => None,
        };
        let number = self.number.as_deref();
        match lang {
            Lang::Kk => {
                let kind = match self.kind {
                    DecreeKind::GovernmentResolution => "ҚР Үкіметінің қаулысы",
                    DecreeKind::MinistryOrder => "ҚР Еңбек және халықты әлеуметтік қорғау министрінің бұйрығы",
                };
                let when = when.map(|w| format!("{w} ")).unwrap_or_default();
                let no = number.map(|n| format!("№ {n} ")).unwrap_or_default();
                format!("{when}{no}{kind}")
            }
            Lang::Ru => {
                let kind = match self.kind {
                    DecreeKind::GovernmentResolution => "постановление Правительства РК",
                    DecreeKind::MinistryOrder => "приказ Министра труда и социальной защиты населения РК",
                };
                let when = when.map(|w| if self.date.is_some() { format!(" от {w}") } else { format!(" ({w})") });
                format!("{kind}{}{}", number.map(|n| format!(" № {n}")).unwrap_or_default(), when.unwrap_or_default())
            }
            Lang::En => {
                let kind = match self.kind {
                    DecreeKind::GovernmentResolution => "Government resolution",
                    DecreeKind::MinistryOrder => "order of the Minister of Labour and Social Protection",
                };
                format!(
                    "{kind}{}{}",
                    number.map(|n| format!(" No {n}")).unwrap_or_default(),
                    when.map(|w| format!(" of {w}")).unwrap_or_default()
                )
            }
        }
    }
}

/// One day with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayInfo {
    pub date: NaiveDate,
    pub working: bool,
    #[serde(flatten)]
    pub kind: DayKind,
    pub coverage: Coverage,
}

/// The calendar: rules, per-year data, working hours and the zone. Cheap to ask; building it indexes every
/// special day of the data years.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    rules: Rules,
    zone: Tz,
    working_weekdays: [bool; 7],
    years: BTreeMap<i32, YearData>,
    /// Every day of a data year that is not a plain working day or plain weekend.
    special: HashMap<NaiveDate, DayKind>,
    /// Whether each day of a data year is a working day, one bit per day of the year, from `special`:
    /// the question every deadline asks once per day it counts, answered without hashing a date
    /// (30 working days took 3.9 µs, most of it in `special` lookups; `bench/RESULTS.md`, item 6).
    working: WorkingDays,
}

/// One bit per day of each data year (bit `ordinal0`), years from `first`; `None` for a year between
/// data years that has none.
#[derive(Debug, Clone, Default)]
struct WorkingDays {
    first: i32,
    years: Vec<Option<[u64; 6]>>,
}

impl WorkingDays {
    fn get(&self, date: NaiveDate) -> Option<bool> {
        let i = usize::try_from(date.year().checked_sub(self.first)?).ok()?;
        let bits = self.years.get(i)?.as_ref()?;
        let d = date.ordinal0() as usize;
        Some(bits[d / 64] >> (d % 64) & 1 == 1)
    }
}

impl BusinessCalendar {
    /// The shipped calendar of Kazakhstan (data 2012..=2027), built once.
    ///
    /// Panics only if the embedded data is invalid, which `cargo test -p domain` rules out.
    pub fn kazakhstan() -> &'static BusinessCalendar {
        static CAL: OnceLock<BusinessCalendar> = OnceLock::new();
        CAL.get_or_init(|| BusinessCalendar::shipped().expect("embedded calendar data is valid"))
    }

    /// A fresh copy of the shipped calendar, reporting data errors instead of panicking.
    pub fn shipped() -> Result<BusinessCalendar, CalendarError> {
        let rules = parse_yaml::<Rules>("rules.yaml", data::RULES_YAML)?;
        let years = data::YEARS_YAML
            .iter()
            .map(|(file, text)| parse_yaml::<YearData>(file, text))
            .collect::<Result<Vec<_>, _>>()?;
        BusinessCalendar::new(rules, years)
    }

    /// A calendar from YAML texts in the shape of `domain/catalog/calendar/` (rules, then year files).
    pub fn from_yaml(rules: &str, years: &[&str]) -> Result<BusinessCalendar, CalendarError> {
        let rules = parse_yaml::<Rules>("rules", rules)?;
        let years = years
            .iter()
            .enumerate()
            .map(|(i, text)| parse_yaml::<YearData>(&format!("year #{}", i + 1), text))
            .collect::<Result<Vec<_>, _>>()?;
        BusinessCalendar::new(rules, years)
    }

    /// A calendar from rules and year data, validated: every transfer must cite a decree of its file, move
    /// a day off from a working weekday, and make a weekend (or observed) day a working day.
    pub fn new(rules: Rules, years: Vec<YearData>) -> Result<BusinessCalendar, CalendarError> {
        let zone: Tz = rules.zone.parse().map_err(|_| CalendarError::UnknownZone(rules.zone.clone()))?;
        rules.working_hours.validate().map_err(CalendarError::Invalid)?;
        for (i, row) in rules.channel_hours.iter().enumerate() {
            schedule::intake_of(row)
                .map_err(|m| CalendarError::Invalid(format!("channel_hours {}: {m}", row.channel.code())))?;
            if rules.channel_hours[..i].iter().any(|r| r.channel == row.channel) {
                return Err(CalendarError::Invalid(format!("channel_hours {}: given twice", row.channel.code())));
            }
        }
        if rules.holidays.iter().filter(|h| h.lunar).count() > 1 {
            return Err(CalendarError::Invalid("at most one lunar holiday (Kurban Ait) is supported".into()));
        }
        for h in &rules.holidays {
            if h.lunar != h.dates.is_empty() {
                return Err(CalendarError::Invalid(format!("holiday {}: give dates, or lunar: true, not both", h.id)));
            }
            h.dates_in(2000).map_err(CalendarError::Invalid)?;
            if let (Some(f), Some(t)) = (h.from, h.to) {
                if t < f {
                    return Err(CalendarError::Invalid(format!("holiday {}: in force to {t}, before {f}", h.id)));
                }
            }
        }
        // One holiday may have several rules (Constitution Day: 30 August until 2025, 15 March from 2027),
        // never two in force in the same year.
        for (i, a) in rules.holidays.iter().enumerate() {
            for b in rules.holidays.iter().skip(i + 1).filter(|b| b.id == a.id) {
                let overlap = a.from.unwrap_or(i32::MIN).max(b.from.unwrap_or(i32::MIN))
                    <= a.to.unwrap_or(i32::MAX).min(b.to.unwrap_or(i32::MAX));
                if overlap {
                    return Err(CalendarError::Invalid(format!("holiday {}: two rules in force in one year", a.id)));
                }
            }
        }
        let mut working_weekdays = [false; 7];
        for w in &rules.working_week {
            working_weekdays[Weekday::from(*w).num_days_from_monday() as usize] = true;
        }
        let mut by_year = BTreeMap::new();
        for y in years {
            if by_year.insert(y.year, y).is_some() {
                return Err(CalendarError::Invalid("a year is given twice".into()));
            }
        }
        let mut cal = BusinessCalendar {
            rules,
            zone,
            working_weekdays,
            years: by_year,
            special: HashMap::new(),
            working: WorkingDays::default(),
        };
        cal.reindex()?;
        Ok(cal)
    }

    /// A copy with `year` added or replaced (e.g. an admin records a new transfer decree).
    pub fn with_year(&self, year: YearData) -> Result<BusinessCalendar, CalendarError> {
        let mut cal = self.clone();
        cal.years.insert(year.year, year);
        cal.reindex()?;
        Ok(cal)
    }

    /// A copy counting local time in another zone (e.g. `chrono_tz::Asia::Aqtobe` for a western provider).
    pub fn with_zone(&self, zone: Tz) -> BusinessCalendar {
        BusinessCalendar { zone, ..self.clone() }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn working_hours(&self) -> &WorkingHours {
        &self.rules.working_hours
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The hours order No 414 gives `channel` in every service (rules `channel_hours`), with the provider's
    /// working time of the calendar; the general rule ([`Schedule::general`]) for a channel they omit.
    /// What a deadline asked for a channel but no service is counted on.
    pub fn channel_schedule(&self, channel: Channel) -> Schedule {
        self.rules
            .channel_hours
            .iter()
            .find(|r| r.channel == channel)
            .and_then(|r| {
                Schedule::from_row(r, DayHours::from(&self.rules.working_hours), ScheduleOrigin::CalendarRules).ok()
            })
            .unwrap_or_else(|| Schedule { channel: Some(channel), ..Schedule::general(self) })
    }

    pub fn year_data(&self, year: i32) -> Option<&YearData> {
        self.years.get(&year)
    }

    /// The years that have data, ascending.
    pub fn data_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    pub fn coverage(&self, year: i32) -> Coverage {
        if self.years.contains_key(&year) {
            Coverage::Data
        } else {
            Coverage::RulesOnly
        }
    }

    /// `Ok` when `year` has data; otherwise the error to show instead of a guess.
    pub fn check_year(&self, year: i32) -> Result<(), CalendarError> {
        match self.coverage(year) {
            Coverage::Data => Ok(()),
            Coverage::RulesOnly => Err(CalendarError::OutsideData {
                year,
                first: self.years.keys().next().copied().unwrap_or(0),
                last: self.years.keys().next_back().copied().unwrap_or(0),
            }),
        }
    }

    /// The act with this id, in any year.
    pub fn decree(&self, id: &str) -> Option<&Decree> {
        self.years.values().flat_map(|y| &y.decrees).find(|d| d.id == id)
    }

    /// What `date` is; for a year without data, by the rules only (see the module doc).
    pub fn day(&self, date: NaiveDate) -> DayInfo {
        let coverage = self.coverage(date.year());
        let kind = match coverage {
            Coverage::Data => self.special.get(&date).cloned(),
            Coverage::RulesOnly => self.rule_days(date.year(), None).ok().and_then(|mut m| m.remove(&date)),
        }
        .unwrap_or_else(|| if self.is_working_weekday(date) { DayKind::Working } else { DayKind::Weekend });
        DayInfo { date, working: kind.is_working(), kind, coverage }
    }

    /// Like [`Self::day`], but an error for a year without data.
    pub fn try_day(&self, date: NaiveDate) -> Result<DayInfo, CalendarError> {
        self.check_year(date.year())?;
        Ok(self.day(date))
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if let Some(working) = self.working.get(date) {
            return working;
        }
        match self.coverage(date.year()) {
            Coverage::Data => match self.special.get(&date) {
                Some(kind) => kind.is_working(),
                None => self.is_working_weekday(date),
            },
            Coverage::RulesOnly => self.day(date).working,
        }
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date.succ_opt().expect("date in range");
        while !self.is_working_day(d) {
            d = d.succ_opt().expect("date in range");
        }
        d
    }

    /// The last working day strictly before `date`.
    pub fn previous_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date.pred_opt().expect("date in range");
        while !self.is_working_day(d) {
            d = d.pred_opt().expect("date in range");
        }
        d
    }

    /// The days off of `year` other than plain weekends: holidays (also those on a weekend), days off for
    /// holidays that fell on a weekend, and transferred days off, by date.
    pub fn days_off(&self, year: i32) -> Vec<DayInfo> {
        self.year_days(year).filter(|d| !d.working && d.kind != DayKind::Weekend).collect()
    }

    /// The weekend days of `year` made working days by an act.
    pub fn working_weekend_days(&self, year: i32) -> Vec<DayInfo> {
        self.year_days(year).filter(|d| matches!(d.kind, DayKind::WorkingByDecree { .. })).collect()
    }

    /// Every non-working date of `year` (weekends included): what a production calendar shows in red.
    pub fn non_working_days(&self, year: i32) -> Vec<NaiveDate> {
        self.year_days(year).filter(|d| !d.working).map(|d| d.date).collect()
    }

    fn year_days(&self, year: i32) -> impl Iterator<Item = DayInfo> + '_ {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("year in range");
        first.iter_days().take_while(move |d| d.year() == year).map(|d| self.day(d))
    }

    /// The local wall-clock time of `at` in the calendar's zone.
    pub fn to_local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.zone).naive_local()
    }

    /// The instant of a local wall-clock time. A time that happened twice (Almaty, 2024-02-29 23:00-23:59,
    /// when the clocks went back) is taken at its first occurrence; a time that never happened (a clock
    /// moved forward) is taken as the same clock time after the jump, i.e. shifted by the gap.
    pub fn from_local(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            LocalResult::None => {
                // Walk forward to the first valid minute, then add back the time we skipped.
                let mut probe = local;
                for _ in 0..(24 * 60) {
                    probe += Duration::minutes(1);
                    if let Some(t) = self.zone.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                Utc.from_utc_datetime(&local)
            }
        }
    }

    fn is_working_weekday(&self, date: NaiveDate) -> bool {
        self.working_weekdays[date.weekday().num_days_from_monday() as usize]
    }

    /// Holidays and weekend transfers of `year` by the rules, with Kurban Ait if its date is known.
    fn rule_days(&self, year: i32, kurban_ait: Option<NaiveDate>) -> Result<BTreeMap<NaiveDate, DayKind>, String> {
        let mut days = BTreeMap::new();
        let mut movable = Vec::new();
        for h in self.rules.holidays.iter().filter(|h| h.in_force(year)) {
            let dates = if h.lunar { kurban_ait.into_iter().collect() } else { h.dates_in(year)? };
            for date in dates {
                if days.contains_key(&date) {
                    continue; // two holidays on one day give one day off
                }
                days.insert(
                    date,
                    DayKind::Holiday { id: h.id.clone(), name: h.name_in(year).clone(), religious: h.religious },
                );
                if !h.religious && !self.is_working_weekday(date) {
                    movable.push((date, h));
                }
            }
        }
        if year >= self.rules.observed_rule.since {
            movable.sort_by_key(|(d, _)| *d);
            for (holiday_date, h) in movable {
                let mut d = holiday_date.succ_opt().ok_or("date out of range")?;
                while !self.is_working_weekday(d) || days.contains_key(&d) {
                    d = d.succ_opt().ok_or("date out of range")?;
                }
                days.insert(
                    d,
                    DayKind::ObservedHoliday {
                        holiday_id: h.id.clone(),
                        holiday_name: h.name_in(holiday_date.year()).clone(),
                        holiday_date,
                    },
                );
            }
        }
        Ok(days)
    }

    /// Rebuilds the index of special days from the rules and every year's data, validating transfers.
    fn reindex(&mut self) -> Result<(), CalendarError> {
        let mut special = HashMap::new();
        for (year, data) in &self.years {
            if let Some(k) = &data.kurban_ait {
                if k.date.year() != *year {
                    return Err(CalendarError::Invalid(format!("{year}: Kurban Ait {} is not in {year}", k.date)));
                }
            }
            let days =
                self.rule_days(*year, data.kurban_ait.as_ref().map(|k| k.date)).map_err(CalendarError::Invalid)?;
            special.extend(days);
        }
        let mut ids = std::collections::HashSet::new();
        for (year, data) in &self.years {
            for d in &data.decrees {
                if !ids.insert(d.id.as_str()) {
                    return Err(CalendarError::Invalid(format!("{year}: decree id `{}` is used twice", d.id)));
                }
            }
            for t in &data.transfers {
                let bad = |msg: &str| {
                    CalendarError::Invalid(format!("{year}: transfer {} / {}: {msg}", t.day_off, t.working_day))
                };
                let decree =
                    data.decrees.iter().find(|d| d.id == t.decree).ok_or_else(|| bad("cites no decree of its file"))?;
                for date in [t.day_off, t.working_day] {
                    if !self.years.contains_key(&date.year()) {
                        return Err(bad("a date lies in a year without data"));
                    }
                }
                if special.contains_key(&t.day_off) || !self.is_working_weekday(t.day_off) {
                    return Err(bad("the new day off must be an ordinary working day"));
                }
                match special.get(&t.working_day) {
                    None if !self.is_working_weekday(t.working_day) => {}
                    Some(DayKind::ObservedHoliday { .. }) => {}
                    _ => return Err(bad("the new working day must be a weekend day or an observed day off")),
                }
                special.insert(t.day_off, DayKind::TransferredDayOff { from: t.working_day, decree: decree.clone() });
                special.insert(
                    t.working_day,
                    DayKind::WorkingByDecree { day_off_moved_to: t.day_off, decree: decree.clone() },
                );
            }
        }
        self.special = special;
        self.working = self.index_working_days();
        Ok(())
    }

    fn index_working_days(&self) -> WorkingDays {
        let (Some(&first), Some(&last)) = (self.years.keys().next(), self.years.keys().next_back()) else {
            return WorkingDays::default();
        };
        let years = (first..=last)
            .map(|year| {
                self.years.contains_key(&year).then(|| {
                    let mut bits = [0u64; 6];
                    let mut d = NaiveDate::from_ymd_opt(year, 1, 1).expect("a data year is a valid year");
                    while d.year() == year {
                        let working = match self.special.get(&d) {
                            Some(kind) => kind.is_working(),
                            None => self.is_working_weekday(d),
                        };
                        let i = d.ordinal0() as usize;
                        bits[i / 64] |= u64::from(working) << (i % 64);
                        d = d.succ_opt().expect("date in range");
                    }
                    bits
                })
            })
            .collect();
        WorkingDays { first, years }
    }
}

fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, CalendarError> {
    serde_yaml::from_str(text).map_err(|e| CalendarError::Parse { file: file.into(), message: e.to_string() })
}

/// Dates as readers expect them: `25.03.2024` in Kazakh and Russian, ISO in English.
pub(crate) fn fmt_date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Kk | Lang::Ru => d.format("%d.%m.%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

/// A time as the texts print it: `09:00`.
pub(crate) fn fmt_time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// The weekday's name in `lang`.
pub(crate) fn weekday_name(w: Weekday, lang: Lang) -> &'static str {
    const KK: [&str; 7] = ["дүйсенбі", "сейсенбі", "сәрсенбі", "бейсенбі", "жұма", "сенбі", "жексенбі"];
    const RU: [&str; 7] = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"];
    const EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let i = w.num_days_from_monday() as usize;
    match lang {
        Lang::Kk => KK[i],
        Lang::Ru => RU[i],
        Lang::En => EN[i],
    }
}

#[cfg(test)]
mod tests;
