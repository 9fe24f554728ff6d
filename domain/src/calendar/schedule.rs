//! When a channel takes filings, and the provider's working time terms are counted in.
//!
//! Each service's schedule row (order No 414, row 7 of every list of main requirements) states the hours
//! per channel, and they differ:
//!
//! - **the provider's office** (and an education organisation receiving for it): Monday to Friday,
//!   09:00-18:30 with a lunch break 13:00-14:30, except weekends and holidays (subparagraph 1, e.g.
//!   004:1017-1033, 004:3973-3981);
//! - **the State Corporation**: Monday to Saturday, 09:00-20:00 without a lunch break, except Sundays and
//!   holidays (e.g. 004:2494-2500, 004:3687-3693, 004:3982-3993, 004:4773-4779);
//! - **the portal**: around the clock; a filing after working hours, on a weekend or a holiday is accepted
//!   on the next working day (its sub-row, e.g. 004:1034-1045, 004:1964-1976, 004:2511-2523).
//!
//! A filing a channel accepts within its hours counts from that day, a Saturday at the State Corporation
//! included; the next-working-day rule is the portal's. A [`Schedule`] is one channel's hours resolved:
//! how it takes filings ([`Intake`]) and the provider's working time ([`DayHours`]), in which working
//! minutes are counted and at whose end a term's last day ends. [`crate::passport::Passport::schedule`]
//! gives the schedule of a passport's channel; [`BusinessCalendar::channel_schedule`] the hours order
//! No 414 gives a channel in every service; [`Schedule::general`] the rule of a text that states no hours.
//!
//! **Readings the texts leave open** (the catalog README lists them too):
//! - The State Corporation is closed "on Sundays and holidays under the labour legislation": a weekday the
//!   calendar makes a day off (a holiday, the day off moved from a holiday on a weekend, a decree's
//!   transfer) is read as closed, a Saturday as open unless it is itself a holiday, and a weekend day a
//!   decree makes a working day as open.
//! - An office takes no filings outside its hours. A filing recorded then (an operator finishing the queue
//!   late) is taken at the channel's next opening: after 20:00 on a Friday at the State Corporation, that is
//!   Saturday 09:00. Before opening on a day it opens, it counts from the opening.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::{fmt_time, BusinessCalendar, DayKind, WorkingHours};
use crate::passport::{Channel, OfficeHours};
use crate::text::Lang;

/// The hours of a working day: `start..end` minus the lunch break, if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub lunch: Option<(NaiveTime, NaiveTime)>,
}

impl DayHours {
    /// Hours from data, checked: `start < end`, the lunch break inside them.
    pub fn new(start: NaiveTime, end: NaiveTime, lunch: Option<(NaiveTime, NaiveTime)>) -> Result<DayHours, String> {
        if start >= end {
            return Err(format!("opens {} at or after it closes {}", fmt_time(start), fmt_time(end)));
        }
        if let Some((a, b)) = lunch {
            if !(start < a && a < b && b < end) {
                return Err(format!(
                    "lunch {}-{} is not inside {}-{}",
                    fmt_time(a),
                    fmt_time(b),
                    fmt_time(start),
                    fmt_time(end)
                ));
            }
        }
        Ok(DayHours { start, end, lunch })
    }

    /// Whether `t` lies inside the hours, lunch included (the lunch break does not move a filing).
    pub fn is_open(&self, t: NaiveTime) -> bool {
        self.start <= t && t < self.end
    }

    pub fn is_lunch(&self, t: NaiveTime) -> bool {
        self.lunch.is_some_and(|(a, b)| a <= t && t < b)
    }

    /// The parts of the day that count as working time.
    pub fn segments(&self) -> Vec<(NaiveTime, NaiveTime)> {
        match self.lunch {
            Some((a, b)) => vec![(self.start, a), (b, self.end)],
            None => vec![(self.start, self.end)],
        }
    }

    /// Working minutes in a full day.
    pub fn minutes_per_day(&self) -> u32 {
        self.segments().iter().map(|(a, b)| (*b - *a).num_minutes().max(0) as u32).sum()
    }

    fn describe(&self, lang: Lang) -> String {
        let span = format!("{}-{}", fmt_time(self.start), fmt_time(self.end));
        match (self.lunch, lang) {
            (Some((a, b)), Lang::Kk) => format!("{span}, түскі үзіліс {}-{}", fmt_time(a), fmt_time(b)),
            (Some((a, b)), Lang::Ru) => format!("{span}, обед {}-{}", fmt_time(a), fmt_time(b)),
            (Some((a, b)), Lang::En) => format!("{span}, lunch {}-{}", fmt_time(a), fmt_time(b)),
            (None, Lang::Kk) => format!("{span}, түскі үзіліссіз"),
            (None, Lang::Ru) => format!("{span}, без перерыва на обед"),
            (None, Lang::En) => format!("{span}, no lunch break"),
        }
    }
}

impl From<&WorkingHours> for DayHours {
    fn from(w: &WorkingHours) -> DayHours {
        let lunch = (w.lunch_start < w.lunch_end).then_some((w.lunch_start, w.lunch_end));
        DayHours { start: w.start, end: w.end, lunch }
    }
}

impl Serialize for DayHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("DayHours", 3)?;
        st.serialize_field("start", &fmt_time(self.start))?;
        st.serialize_field("end", &fmt_time(self.end))?;
        st.serialize_field("lunch", &self.lunch.map(|(a, b)| [fmt_time(a), fmt_time(b)]))?;
        st.end()
    }
}

/// How a channel takes filings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Intake {
    /// Around the clock (the portal). With `next_working_day`, a filing after the provider's working time,
    /// on a weekend or a holiday is accepted on the next working day; without it, it counts as made.
    AroundTheClock { next_working_day: bool },
    /// A counter in office hours: open on the calendar's working days, and on Saturdays too when
    /// `saturdays` (the State Corporation), except a Saturday that is a holiday.
    Office { hours: DayHours, saturdays: bool },
}

/// Where a schedule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleOrigin {
    /// The passport's own schedule row for the channel.
    Passport,
    /// The hours order No 414 gives the channel in every service (calendar rules, `channel_hours`).
    CalendarRules,
    /// No text states the channel's hours: the general rule (the provider's working time, filings outside
    /// it counted from the next working day).
    General,
}

/// One channel's hours, resolved: when it takes filings and the working time terms are counted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// The channel; `None` for the general rule asked without one.
    pub channel: Option<Channel>,
    pub intake: Intake,
    /// The provider's working time: working minutes and hours are counted inside it on working days, and a
    /// term in days ends when it ends on the last day.
    pub working_time: DayHours,
    pub origin: ScheduleOrigin,
    /// The text stating the channel's hours (`"004:2494-2510 | ..."`), or the general rule's basis.
    pub source: Option<String>,
}

impl Schedule {
    /// The rule for a channel whose hours no text states, and what [`crate::deadline::due`] applies: the
    /// provider's working time of the calendar (09:00-18:30, lunch 13:00-14:30, working days), a filing
    /// outside it counted from the next working day.
    pub fn general(cal: &BusinessCalendar) -> Schedule {
        let wh = cal.working_hours();
        Schedule {
            channel: None,
            intake: Intake::AroundTheClock { next_working_day: true },
            working_time: DayHours::from(wh),
            origin: ScheduleOrigin::General,
            source: wh.source.clone(),
        }
    }

    /// The schedule of a schedule row, with the provider's working time `working_time`.
    pub fn from_row(row: &OfficeHours, working_time: DayHours, origin: ScheduleOrigin) -> Result<Schedule, String> {
        Ok(Schedule {
            channel: Some(row.channel),
            intake: intake_of(row)?,
            working_time,
            origin,
            source: Some(row.source.to_string()),
        })
    }

    /// Whether the channel takes filings on `date` at all (at some hour).
    pub fn is_open_day(&self, cal: &BusinessCalendar, date: NaiveDate) -> bool {
        match &self.intake {
            Intake::AroundTheClock { .. } => true,
            Intake::Office { saturdays, .. } => {
                cal.is_working_day(date)
                    || (*saturdays && date.weekday() == Weekday::Sat && cal.day(date).kind == DayKind::Weekend)
            }
        }
    }

    /// The first day after `date` on which the channel is open for business: for an office its next open
    /// day, for the portal the next working day (when it accepts what was filed and issues results).
    pub fn next_business_day(&self, cal: &BusinessCalendar, date: NaiveDate) -> NaiveDate {
        match &self.intake {
            Intake::AroundTheClock { .. } => cal.next_working_day(date),
            Intake::Office { .. } => {
                let mut d = date.succ_opt().expect("date in range");
                while !self.is_open_day(cal, d) {
                    d = d.succ_opt().expect("date in range");
                }
                d
            }
        }
    }

    /// When the channel's day ends on a business day: an office's closing time, else the end of the
    /// provider's working time.
    pub fn closes(&self) -> NaiveTime {
        match &self.intake {
            Intake::Office { hours, .. } => hours.end,
            Intake::AroundTheClock { .. } => self.working_time.end,
        }
    }

    /// "State Corporation: Monday to Saturday 09:00-20:00, no lunch break" in `lang`.
    pub fn describe(&self, lang: Lang) -> String {
        let who = self.channel.map(|c| channel_name(c, lang)).unwrap_or(match lang {
            Lang::Kk => "жалпы ереже",
            Lang::Ru => "общее правило",
            Lang::En => "general rule",
        });
        let hours = match (&self.intake, lang) {
            (Intake::AroundTheClock { next_working_day: true }, Lang::Kk) => format!(
                "тәулік бойы; жұмыс уақытынан ({}) кейін, демалыс және мереке күндері берілген өтініш келесі жұмыс күні қабылданады",
                self.working_time.describe(lang)
            ),
            (Intake::AroundTheClock { next_working_day: true }, Lang::Ru) => format!(
                "круглосуточно; поданное после рабочего времени ({}), в выходные и праздничные дни принимается следующим рабочим днём",
                self.working_time.describe(lang)
            ),
            (Intake::AroundTheClock { next_working_day: true }, Lang::En) => format!(
                "around the clock; a filing after working hours ({}), on a weekend or holiday is accepted on the next working day",
                self.working_time.describe(lang)
            ),
            (Intake::AroundTheClock { next_working_day: false }, Lang::Kk) => "тәулік бойы".to_string(),
            (Intake::AroundTheClock { next_working_day: false }, Lang::Ru) => "круглосуточно".to_string(),
            (Intake::AroundTheClock { next_working_day: false }, Lang::En) => "around the clock".to_string(),
            (Intake::Office { hours, saturdays: true }, Lang::Kk) => {
                format!("дүйсенбі-сенбі {}, жексенбі мен мереке күндерінен басқа", hours.describe(lang))
            }
            (Intake::Office { hours, saturdays: true }, Lang::Ru) => {
                format!("понедельник-суббота {}, кроме воскресенья и праздничных дней", hours.describe(lang))
            }
            (Intake::Office { hours, saturdays: true }, Lang::En) => {
                format!("Monday to Saturday {}, except Sundays and holidays", hours.describe(lang))
            }
            (Intake::Office { hours, saturdays: false }, Lang::Kk) => {
                format!("жұмыс күндері {}", hours.describe(lang))
            }
            (Intake::Office { hours, saturdays: false }, Lang::Ru) => {
                format!("в рабочие дни {}", hours.describe(lang))
            }
            (Intake::Office { hours, saturdays: false }, Lang::En) => {
                format!("working days {}", hours.describe(lang))
            }
        };
        format!("{who}: {hours}")
    }
}

/// The channel's name in `lang`.
pub fn channel_name(c: Channel, lang: Lang) -> &'static str {
    match (c, lang) {
        (Channel::Portal, Lang::Kk) => "портал",
        (Channel::Portal, Lang::Ru) => "портал",
        (Channel::Portal, Lang::En) => "portal",
        (Channel::StateCorporation, Lang::Kk) => "Мемлекеттік корпорация",
        (Channel::StateCorporation, Lang::Ru) => "Государственная корпорация",
        (Channel::StateCorporation, Lang::En) => "State Corporation",
        (Channel::ProviderOffice, Lang::Kk) => "көрсетілетін қызметті беруші",
        (Channel::ProviderOffice, Lang::Ru) => "услугодатель",
        (Channel::ProviderOffice, Lang::En) => "provider's office",
        (Channel::EducationOrganization, Lang::Kk) => "білім беру ұйымы",
        (Channel::EducationOrganization, Lang::Ru) => "организация образования",
        (Channel::EducationOrganization, Lang::En) => "education organisation",
    }
}

fn hhmm(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("`{s}` is not a HH:MM time"))
}

/// The hours of an office row (`opens`, `closes`, `lunch`), checked.
pub fn office_hours_of(row: &OfficeHours) -> Result<DayHours, String> {
    let (Some(opens), Some(closes)) = (row.opens.as_deref(), row.closes.as_deref()) else {
        return Err("give opens and closes, or around_the_clock".into());
    };
    let lunch = match &row.lunch {
        Some((a, b)) => Some((hhmm(a)?, hhmm(b)?)),
        None => None,
    };
    DayHours::new(hhmm(opens)?, hhmm(closes)?, lunch)
}

/// How a schedule row takes filings, checked: a row is either around the clock (no hours, no Saturdays)
/// or an office with hours; the next-working-day rule is the portal's (an office takes no filings
/// outside its hours).
pub fn intake_of(row: &OfficeHours) -> Result<Intake, String> {
    if row.around_the_clock {
        if row.opens.is_some() || row.closes.is_some() || row.lunch.is_some() || row.saturdays {
            return Err("around the clock: give no opens, closes, lunch or saturdays".into());
        }
        return Ok(Intake::AroundTheClock { next_working_day: row.after_hours_next_working_day });
    }
    if row.after_hours_next_working_day {
        return Err("after_hours_next_working_day is the rule of a channel open around the clock (the portal); an office takes no filings outside its hours".into());
    }
    Ok(Intake::Office { hours: office_hours_of(row)?, saturdays: row.saturdays })
}
