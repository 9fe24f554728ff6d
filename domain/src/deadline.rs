//! Term arithmetic on the [business calendar](crate::calendar): when a term (мерзім / срок) ends, why,
//! how many working days are gone and left, and the latest day for a preliminary refusal.
//!
//! # What "within N days" means here
//!
//! - **Per channel.** A filing counts from the moment the channel it came through accepts it, on that
//!   channel's [`Schedule`] (order No 414, row 7 of every service): the State Corporation takes filings
//!   Monday to Saturday 09:00-20:00, so one made there on a Saturday or at 19:00 counts from that day; the
//!   provider's office takes them Monday to Friday 09:00-18:30; on the portal, a filing after working
//!   hours (18:30), on a weekend or a holiday is accepted on the next working day at 09:00, one before
//!   09:00 on a working day at 09:00 that day. A lunch break does not move a filing. An office takes no
//!   filings outside its hours; one recorded then counts from the office's next opening. See
//!   [`effective_filing_on`] and [`due_on`]. [`due`] and [`effective_filing`] apply the general rule
//!   ([`Schedule::general`]: the portal's, on the provider's working time), as for a channel whose hours no
//!   text states.
//! - **The day of filing is not counted.** A term in days begins the day after the (effective) filing day
//!   (Civil Code: a term defined by a period begins the day after the event). So 1 working day from a
//!   Monday filing is Tuesday, and from a Saturday filing at the State Corporation it is Monday; 0 days is
//!   the filing day itself.
//! - **The end of the last day is the end of the provider's working day**, 18:30 local: the act is done
//!   at the provider, and a term for an act in an organisation ends when its working hours end.
//!   [`Deadline::due_at`] is that moment in UTC (12:30 UTC in Almaty before 2024-03-01, 13:30 UTC after).
//! - **Working days** (`working_days`): the N-th working day after the filing day; weekends, holidays,
//!   observed and transferred days off are skipped, working Saturdays of a decree are counted. A
//!   Saturday the State Corporation is open is not a working day of the provider and is not counted.
//! - **Calendar days** (`calendar_days`): the filing day + N; if that last day is a day off, the term ends
//!   on the next working day. **Months** and **years** (`months`, `years`): the same day N months (12·N
//!   for years) later, or the month's last day if it has no such day, rolled forward the same way.
//! - **Working minutes and hours** (`minutes`, `working_hours`): counted from the filing moment inside
//!   the provider's working time (09:00-13:00 and 14:30-18:30) of working days only; a term that runs out
//!   exactly at 13:00 or 18:30 ends then. **Hours** (`hours`): astronomical hours from the effective
//!   filing moment, not moved.
//! - **A term that excludes the day of issue** too ([`Term::excludes_issue_day`], "the days documents are
//!   accepted and issued are not counted", 002:706-713): the result is due on the channel's next business
//!   day after the term's last day ([`due_for`]).
//! - **Counting back** ([`latest_working_day_before`]): the latest working day D with exactly N working days
//!   in (D, end], i.e. a preliminary refusal "no later than 3 working days before the term ends" on Friday
//!   goes out by Tuesday (Wednesday, Thursday, Friday remain).
//! - **Years without calendar data** are counted by the rules only; every such year adds a
//!   [`Step::RulesOnly`] and sets [`Deadline::coverage`] to [`Coverage::RulesOnly`].

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{fmt_date, weekday_name, BusinessCalendar, Coverage, DayHours, DayKind, Intake, Schedule};
use crate::passport::{Channel, Term, TermUnit};
use crate::text::{Lang, Text};

/// Why a filing counts from a later moment than it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum FilingMove {
    /// Before the channel opens (09:00) on a day it is open: counts from the opening that day.
    BeforeHours,
    /// On the portal at or after the end of working hours (18:30): counts from the next working day at 09:00.
    AfterHours,
    /// On the portal on a weekend or holiday: counts from the next working day at 09:00.
    DayOff { day: DayKind },
    /// At an office after it closed (`closes`): taken at its next opening (it takes no filings then).
    AfterChannelHours {
        #[serde(with = "hhmm")]
        closes: NaiveTime,
    },
    /// At an office on a day it is closed: taken at its next opening.
    ChannelClosed { day: DayKind },
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

/// A filing and the moment it counts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveFiling {
    pub filed_at: DateTime<Utc>,
    pub filed_local: NaiveDateTime,
    /// Local moment the term counts from (the filing itself, or the opening of a later day).
    pub counted_from: NaiveDateTime,
    pub counted_from_utc: DateTime<Utc>,
    pub moved: Option<FilingMove>,
}

/// The general rule (see [`Schedule::general`]): a filing after hours or on a day off counts from the next
/// working day.
pub fn effective_filing(cal: &BusinessCalendar, filed_at: DateTime<Utc>) -> EffectiveFiling {
    effective_filing_on(cal, &Schedule::general(cal), filed_at)
}

/// The moment a filing through a channel with `schedule` counts from.
pub fn effective_filing_on(cal: &BusinessCalendar, schedule: &Schedule, filed_at: DateTime<Utc>) -> EffectiveFiling {
    let local = cal.to_local(filed_at);
    let (date, time) = (local.date(), local.time());
    let (counted_from, moved) = match &schedule.intake {
        Intake::AroundTheClock { next_working_day: false } => (local, None),
        Intake::AroundTheClock { next_working_day: true } => {
            let wt = &schedule.working_time;
            let day = cal.day(date);
            if !day.working {
                (cal.next_working_day(date).and_time(wt.start), Some(FilingMove::DayOff { day: day.kind }))
            } else if time < wt.start {
                (date.and_time(wt.start), Some(FilingMove::BeforeHours))
            } else if time >= wt.end {
                (cal.next_working_day(date).and_time(wt.start), Some(FilingMove::AfterHours))
            } else {
                (local, None)
            }
        }
        Intake::Office { hours, .. } => {
            if !schedule.is_open_day(cal, date) {
                let next = schedule.next_business_day(cal, date).and_time(hours.start);
                (next, Some(FilingMove::ChannelClosed { day: cal.day(date).kind }))
            } else if time < hours.start {
                (date.and_time(hours.start), Some(FilingMove::BeforeHours))
            } else if time >= hours.end {
                let next = schedule.next_business_day(cal, date).and_time(hours.start);
                (next, Some(FilingMove::AfterChannelHours { closes: hours.end }))
            } else {
                (local, None)
            }
        }
    };
    let counted_from_utc = if moved.is_some() { cal.from_local(counted_from) } else { filed_at };
    EffectiveFiling { filed_at, filed_local: local, counted_from, counted_from_utc, moved }
}

/// One line of the explanation of a deadline. [`Step::render`] gives it in kk, ru or en.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Filed {
        at_local: NaiveDateTime,
        zone: String,
        utc_offset: String,
    },
    /// The channel the filing came through and its hours (`hours` in kk, ru and en), with their source.
    ChannelHours {
        channel: Channel,
        hours: Text,
        source: Option<String>,
    },
    FilingMoved {
        from: NaiveDateTime,
        to: NaiveDateTime,
        why: FilingMove,
    },
    DayCounted {
        date: NaiveDate,
        n: u32,
        of: u32,
    },
    DaySkipped {
        date: NaiveDate,
        why: DayKind,
    },
    CalendarDaysCounted {
        from: NaiveDate,
        days: u32,
        last_day: NaiveDate,
    },
    MonthsCounted {
        from: NaiveDate,
        months: u32,
        last_day: NaiveDate,
    },
    LastDayMoved {
        from: NaiveDate,
        to: NaiveDate,
    },
    MinutesCounted {
        date: NaiveDate,
        from: NaiveTime,
        to: NaiveTime,
        minutes: u32,
    },
    LunchBreak {
        date: NaiveDate,
        from: NaiveTime,
        to: NaiveTime,
    },
    HoursAdded {
        from: NaiveDateTime,
        hours: u32,
        to: NaiveDateTime,
    },
    /// The term excludes the day the result is issued too: it is issued on the next business day.
    IssueDayExcluded {
        last_day: NaiveDate,
        issue_day: NaiveDate,
    },
    Due {
        at_local: NaiveDateTime,
        at_utc: DateTime<Utc>,
    },
    RulesOnly {
        year: i32,
    },
}

impl Step {
    pub fn render(&self, lang: Lang) -> String {
        use Lang::*;
        let d = |x: NaiveDate| format!("{} ({})", fmt_date(x, lang), weekday_name(x.weekday(), lang));
        let dt = |x: NaiveDateTime| format!("{} {}", fmt_date(x.date(), lang), x.format("%H:%M"));
        let t = |x: NaiveTime| x.format("%H:%M").to_string();
        match self {
            Step::Filed { at_local, zone, utc_offset } => match lang {
                Kk => format!("Өтініш жергілікті уақыт бойынша {} берілді ({zone}, UTC{utc_offset})", dt(*at_local)),
                Ru => format!("Подано {} по местному времени ({zone}, UTC{utc_offset})", dt(*at_local)),
                En => format!("Filed at {} local time ({zone}, UTC{utc_offset})", dt(*at_local)),
            },
            Step::ChannelHours { hours, source, .. } => {
                let src = source.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
                match lang {
                    Kk => format!("Қабылдау кестесі – {}{src}", hours.resolve(lang)),
                    Ru => format!("График приёма – {}{src}", hours.resolve(lang)),
                    En => format!("Hours of intake – {}{src}", hours.resolve(lang)),
                }
            }
            Step::FilingMoved { to, why, .. } => match (why, lang) {
                (FilingMove::BeforeHours, Kk) => format!("Жұмыс уақыты басталғанға дейін берілді: мерзім {} бастап есептеледі", dt(*to)),
                (FilingMove::BeforeHours, Ru) => format!("Подано до начала рабочего времени: срок считается с {}", dt(*to)),
                (FilingMove::BeforeHours, En) => format!("Filed before working hours: counted from {}", dt(*to)),
                (FilingMove::AfterHours, Kk) => format!(
                    "Жұмыс уақыты аяқталғаннан кейін берілді: келесі жұмыс күні, {}, берілген болып есептеледі",
                    dt(*to)
                ),
                (FilingMove::AfterHours, Ru) => format!(
                    "Подано после окончания рабочего времени: считается поданным в следующий рабочий день, {}",
                    dt(*to)
                ),
                (FilingMove::AfterHours, En) => {
                    format!("Filed after working hours: taken as filed on the next working day, {}", dt(*to))
                }
                (FilingMove::DayOff { day }, Kk) => format!(
                    "Жұмыс емес күні берілді ({}): келесі жұмыс күні, {}, берілген болып есептеледі",
                    day.describe(lang),
                    dt(*to)
                ),
                (FilingMove::DayOff { day }, Ru) => format!(
                    "Подано в нерабочий день ({}): считается поданным в следующий рабочий день, {}",
                    day.describe(lang),
                    dt(*to)
                ),
                (FilingMove::DayOff { day }, En) => format!(
                    "Filed on a day off ({}): taken as filed on the next working day, {}",
                    day.describe(lang),
                    dt(*to)
                ),
                (FilingMove::AfterChannelHours { closes }, Kk) => format!(
                    "Қабылдау {} аяқталғаннан кейін тіркелді: келесі ашылған кезде, {}, берілген болып есептеледі",
                    t(*closes),
                    dt(*to)
                ),
                (FilingMove::AfterChannelHours { closes }, Ru) => format!(
                    "Зарегистрировано после окончания приёма в {}: считается поданным при следующем открытии, {}",
                    t(*closes),
                    dt(*to)
                ),
                (FilingMove::AfterChannelHours { closes }, En) => format!(
                    "Recorded after the channel closed at {}: taken as filed when it next opens, {}",
                    t(*closes),
                    dt(*to)
                ),
                (FilingMove::ChannelClosed { day }, Kk) => format!(
                    "Қабылдау жұмыс істемейтін күні тіркелді ({}): келесі ашылған кезде, {}, берілген болып есептеледі",
                    day.describe(lang),
                    dt(*to)
                ),
                (FilingMove::ChannelClosed { day }, Ru) => format!(
                    "Зарегистрировано в день, когда приём закрыт ({}): считается поданным при следующем открытии, {}",
                    day.describe(lang),
                    dt(*to)
                ),
                (FilingMove::ChannelClosed { day }, En) => format!(
                    "Recorded on a day the channel is closed ({}): taken as filed when it next opens, {}",
                    day.describe(lang),
                    dt(*to)
                ),
            },
            Step::DayCounted { date, n, of } => match lang {
                Kk => format!("{}: {of} жұмыс күнінің {n}-і", d(*date)),
                Ru => format!("{}: рабочий день {n} из {of}", d(*date)),
                En => format!("{}: working day {n} of {of}", d(*date)),
            },
            Step::DaySkipped { date, why } => match lang {
                Kk => format!("{} есептелмейді: {}", d(*date), why.describe(lang)),
                Ru => format!("{} не считается: {}", d(*date), why.describe(lang)),
                En => format!("{} skipped: {}", d(*date), why.describe(lang)),
            },
            Step::CalendarDaysCounted { from, days, last_day } => match lang {
                Kk => format!("{} кейін {days} күнтізбелік күн (берілген күн есептелмейді): соңғы күн {}", d(*from), d(*last_day)),
                Ru => format!("{days} календарных дней после {} (день подачи не считается): последний день {}", d(*from), d(*last_day)),
                En => format!("{days} calendar days after {} (the filing day not counted): last day {}", d(*from), d(*last_day)),
            },
            Step::MonthsCounted { from, months, last_day } => match lang {
                Kk => format!("{} бастап {months} ай: соңғы күн {}", d(*from), d(*last_day)),
                Ru => format!("{months} мес. с {}: последний день {}", d(*from), d(*last_day)),
                En => format!("{months} months from {}: last day {}", d(*from), d(*last_day)),
            },
            Step::LastDayMoved { from, to } => match lang {
                Kk => format!("Соңғы күн {} жұмыс күні емес: мерзім келесі жұмыс күні, {}, аяқталады", d(*from), d(*to)),
                Ru => format!("Последний день {} нерабочий: срок оканчивается в следующий рабочий день, {}", d(*from), d(*to)),
                En => format!("The last day {} is a day off: the term ends on the next working day, {}", d(*from), d(*to)),
            },
            Step::MinutesCounted { date, from, to, minutes } => match lang {
                Kk => format!("{}: {}–{}, жұмыс уақытының {minutes} минуты", d(*date), t(*from), t(*to)),
                Ru => format!("{}: {}–{}, {minutes} мин рабочего времени", d(*date), t(*from), t(*to)),
                En => format!("{}: {}-{}, {minutes} working minutes", d(*date), t(*from), t(*to)),
            },
            Step::LunchBreak { date, from, to } => match lang {
                Kk => format!("{}: {}–{} түскі үзіліс есептелмейді", d(*date), t(*from), t(*to)),
                Ru => format!("{}: обеденный перерыв {}–{} не учитывается", d(*date), t(*from), t(*to)),
                En => format!("{}: lunch break {}-{} not counted", d(*date), t(*from), t(*to)),
            },
            Step::HoursAdded { from, hours, to } => match lang {
                Kk => format!("{} бастап {hours} сағат: {}", dt(*from), dt(*to)),
                Ru => format!("{hours} ч с {}: {}", dt(*from), dt(*to)),
                En => format!("{hours} hours from {}: {}", dt(*from), dt(*to)),
            },
            Step::IssueDayExcluded { last_day, issue_day } => match lang {
                Kk => format!(
                    "Нәтиже беру күні мерзімге енбейді: {} кейін, {} беріледі",
                    d(*last_day),
                    d(*issue_day)
                ),
                Ru => format!(
                    "День выдачи в срок не входит: после {} результат выдаётся {}",
                    d(*last_day),
                    d(*issue_day)
                ),
                En => format!(
                    "The day of issue is not counted either: after {} the result is issued on {}",
                    d(*last_day),
                    d(*issue_day)
                ),
            },
            Step::Due { at_local, at_utc } => {
                let utc = at_utc.format("%Y-%m-%d %H:%M");
                match lang {
                    Kk => format!("Мерзім аяқталады: жергілікті уақыт бойынша {} ({utc} UTC)", dt(*at_local)),
                    Ru => format!("Срок истекает {} по местному времени ({utc} UTC)", dt(*at_local)),
                    En => format!("Due {} local time ({utc} UTC)", dt(*at_local)),
                }
            }
            Step::RulesOnly { year } => match lang {
                Kk => format!("{year}: күнтізбе деректері жоқ, тек ережелер қолданылды (Құрбан айт пен демалыс күндерін ауыстыру актілерінсіз)"),
                Ru => format!("{year}: нет данных календаря, применены только правила (без Курбан айта и актов о переносе выходных)"),
                En => format!("{year}: no calendar data, only the rules applied (no Kurban Ait, no transfer acts)"),
            },
        }
    }
}

/// When a term ends, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub filed_at: DateTime<Utc>,
    pub value: u32,
    pub unit: TermUnit,
    /// Local moment the term counts from (see [`effective_filing`]).
    pub counted_from: NaiveDateTime,
    /// Local date of the last day of the term.
    pub due_date: NaiveDate,
    /// Local moment the term ends: 18:30 of `due_date` for day and month units.
    pub due_local: NaiveDateTime,
    pub due_at: DateTime<Utc>,
    pub steps: Vec<Step>,
    /// `RulesOnly` when some year the term crosses has no calendar data.
    pub coverage: Coverage,
}

impl Deadline {
    /// The explanation as lines of text in `lang`.
    pub fn explain(&self, lang: Lang) -> Vec<String> {
        self.steps.iter().map(|s| s.render(lang)).collect()
    }
}

/// The deadline of a term of `value` `unit`s for an application filed at `filed_at`, on the general rule
/// ([`Schedule::general`]; the behaviour before schedules were per channel). Prefer [`due_on`] with the
/// schedule of the channel the application came through.
pub fn due(cal: &BusinessCalendar, filed_at: DateTime<Utc>, value: u32, unit: TermUnit) -> Deadline {
    due_on(cal, &Schedule::general(cal), filed_at, value, unit)
}

/// The deadline of a term of `value` `unit`s for an application filed at `filed_at` through a channel with
/// `schedule` (see [`crate::passport::Passport::schedule`]).
pub fn due_on(
    cal: &BusinessCalendar,
    schedule: &Schedule,
    filed_at: DateTime<Utc>,
    value: u32,
    unit: TermUnit,
) -> Deadline {
    compute(cal, schedule, filed_at, value, unit, false, Trace::explained())
}

/// The deadline of a passport `term` for an application filed at `filed_at` through a channel with
/// `schedule`: [`due_on`] with the term's value and unit, and, for a term that excludes the day of issue
/// too ([`Term::excludes_issue_day`]), the result due on the channel's next business day after the term's
/// last day.
pub fn due_for(cal: &BusinessCalendar, schedule: &Schedule, filed_at: DateTime<Utc>, term: &Term) -> Deadline {
    compute(cal, schedule, filed_at, term.value, term.unit, term.excludes_issue_day, Trace::explained())
}

/// [`due_for`] without the explanation (`steps` is empty): the same due moment, for callers that store
/// or compare it (filing, a calendar change's recomputation) rather than show why.
pub fn due_moment_for(cal: &BusinessCalendar, schedule: &Schedule, filed_at: DateTime<Utc>, term: &Term) -> Deadline {
    compute(cal, schedule, filed_at, term.value, term.unit, term.excludes_issue_day, Trace::quiet())
}

/// [`due`] without the explanation (`steps` is empty).
pub fn due_moment(cal: &BusinessCalendar, filed_at: DateTime<Utc>, value: u32, unit: TermUnit) -> Deadline {
    compute(cal, &Schedule::general(cal), filed_at, value, unit, false, Trace::quiet())
}

/// Where [`compute`] writes its explanation: the steps, or nowhere when only the due moment is wanted
/// (a filing stores the moment, not the explanation; building the steps, with the channel's hours
/// described in three languages, was 80 % of the time of a call, `bench/RESULTS.md` item 6).
struct Trace(Option<Vec<Step>>);

impl Trace {
    fn explained() -> Trace {
        Trace(Some(Vec::with_capacity(16)))
    }

    fn quiet() -> Trace {
        Trace(None)
    }

    fn on(&self) -> bool {
        self.0.is_some()
    }

    /// Records the step `f` builds; `f` runs only when the explanation is kept.
    fn push(&mut self, f: impl FnOnce() -> Step) {
        if let Some(steps) = &mut self.0 {
            steps.push(f());
        }
    }

    fn into_steps(self) -> Vec<Step> {
        self.0.unwrap_or_default()
    }
}

fn compute(
    cal: &BusinessCalendar,
    schedule: &Schedule,
    filed_at: DateTime<Utc>,
    value: u32,
    unit: TermUnit,
    excludes_issue_day: bool,
    mut steps: Trace,
) -> Deadline {
    let filing = effective_filing_on(cal, schedule, filed_at);
    steps.push(|| Step::Filed {
        at_local: filing.filed_local,
        zone: cal.zone().name().to_string(),
        utc_offset: filed_at.with_timezone(&cal.zone()).offset().fix().to_string(),
    });
    if let Some(channel) = schedule.channel {
        steps.push(|| {
            let hours =
                Text::new(&schedule.describe(Lang::Kk), &schedule.describe(Lang::Ru), &schedule.describe(Lang::En));
            Step::ChannelHours { channel, hours, source: schedule.source.clone() }
        });
    }
    if let Some(why) = &filing.moved {
        steps.push(|| Step::FilingMoved { from: filing.filed_local, to: filing.counted_from, why: why.clone() });
    }
    let start = filing.counted_from;
    let wt = &schedule.working_time;
    let end_of_day = wt.end;
    let mut due_local = match unit {
        TermUnit::WorkingDays => add_working_days_explained(cal, start.date(), value, &mut steps).and_time(end_of_day),
        TermUnit::CalendarDays => {
            let last = start.date() + Duration::days(i64::from(value));
            steps.push(|| Step::CalendarDaysCounted { from: start.date(), days: value, last_day: last });
            roll_to_working_day(cal, last, &mut steps).and_time(end_of_day)
        }
        TermUnit::Months | TermUnit::Years => {
            let months = if unit == TermUnit::Years { value.saturating_mul(12) } else { value };
            let last = start.date().checked_add_months(Months::new(months)).expect("date in range");
            steps.push(|| Step::MonthsCounted { from: start.date(), months, last_day: last });
            roll_to_working_day(cal, last, &mut steps).and_time(end_of_day)
        }
        TermUnit::Minutes => add_working_minutes_explained(cal, wt, start, value, &mut steps),
        // Counter steps of the 2012 regulations are set in seconds; a due moment is kept to the
        // minute, so a part-minute counts as a whole one (never earlier than the law allows).
        TermUnit::Seconds => add_working_minutes_explained(cal, wt, start, value.div_ceil(60), &mut steps),
        TermUnit::WorkingHours => add_working_minutes_explained(cal, wt, start, value.saturating_mul(60), &mut steps),
        TermUnit::Hours => {
            let to = cal.to_local(filing.counted_from_utc + Duration::hours(i64::from(value)));
            steps.push(|| Step::HoursAdded { from: start, hours: value, to });
            to
        }
    };
    let day_unit = matches!(unit, TermUnit::WorkingDays | TermUnit::CalendarDays | TermUnit::Months | TermUnit::Years);
    if excludes_issue_day && day_unit {
        let last_day = due_local.date();
        let issue_day = schedule.next_business_day(cal, last_day);
        steps.push(|| Step::IssueDayExcluded { last_day, issue_day });
        due_local = issue_day.and_time(schedule.closes());
    }
    let due_at = match unit {
        TermUnit::Hours => filing.counted_from_utc + Duration::hours(i64::from(value)),
        _ => cal.from_local(due_local),
    };
    let mut coverage = Coverage::Data;
    for year in start.date().year()..=due_local.date().year() {
        if cal.coverage(year) == Coverage::RulesOnly {
            coverage = Coverage::RulesOnly;
            steps.push(|| Step::RulesOnly { year });
        }
    }
    steps.push(|| Step::Due { at_local: due_local, at_utc: due_at });
    let steps = steps.into_steps();
    Deadline {
        filed_at,
        value,
        unit,
        counted_from: start,
        due_date: due_local.date(),
        due_local,
        due_at,
        steps,
        coverage,
    }
}

/// The `n`-th working day after `from` (`from` itself when `n` is 0); `from` is not counted.
pub fn add_working_days(cal: &BusinessCalendar, from: NaiveDate, n: u32) -> NaiveDate {
    let mut d = from;
    for _ in 0..n {
        d = cal.next_working_day(d);
    }
    d
}

/// The latest working day D such that exactly `n` working days lie in (D, end]: the last day a preliminary
/// refusal may go out when it must be sent "no later than `n` working days before the term ends".
pub fn latest_working_day_before(cal: &BusinessCalendar, end: NaiveDate, n: u32) -> NaiveDate {
    let mut d = if cal.is_working_day(end) { end } else { cal.previous_working_day(end) };
    for _ in 0..n {
        d = cal.previous_working_day(d);
    }
    d
}

/// Working days in (from, to]; negative when `to` is before `from`. From a filing day to the due date of
/// an N-working-day term this is N.
pub fn working_days_between(cal: &BusinessCalendar, from: NaiveDate, to: NaiveDate) -> i64 {
    let (lo, hi, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
    let count = lo.iter_days().skip(1).take_while(|d| *d <= hi).filter(|d| cal.is_working_day(*d)).count();
    sign * count as i64
}

/// Working days used and left of a deadline on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayAccount {
    /// Working days since the filing day, up to and including `today` (0 on the filing day).
    pub elapsed: i64,
    /// Working days after `today` up to and including the due date; negative once overdue.
    pub remaining: i64,
    pub overdue: bool,
}

/// Elapsed and remaining working days of `deadline` as of `today` (a local date).
pub fn day_account(cal: &BusinessCalendar, deadline: &Deadline, today: NaiveDate) -> DayAccount {
    DayAccount {
        elapsed: working_days_between(cal, deadline.counted_from.date(), today).max(0),
        remaining: working_days_between(cal, today, deadline.due_date),
        overdue: today > deadline.due_date,
    }
}

fn add_working_days_explained(cal: &BusinessCalendar, from: NaiveDate, n: u32, steps: &mut Trace) -> NaiveDate {
    let mut d = from;
    for i in 1..=n {
        d = next_working_day_explained(cal, d, steps);
        steps.push(|| Step::DayCounted { date: d, n: i, of: n });
    }
    d
}

/// The next working day after `d`, recording every day skipped on the way.
fn next_working_day_explained(cal: &BusinessCalendar, d: NaiveDate, steps: &mut Trace) -> NaiveDate {
    if !steps.on() {
        return cal.next_working_day(d);
    }
    let mut d = d.succ_opt().expect("date in range");
    loop {
        let day = cal.day(d);
        if day.working {
            return d;
        }
        steps.push(|| Step::DaySkipped { date: d, why: day.kind });
        d = d.succ_opt().expect("date in range");
    }
}

/// `last` if it is a working day, else the next working day (recording why).
fn roll_to_working_day(cal: &BusinessCalendar, last: NaiveDate, steps: &mut Trace) -> NaiveDate {
    if !steps.on() {
        return if cal.is_working_day(last) { last } else { cal.next_working_day(last) };
    }
    let day = cal.day(last);
    if day.working {
        return last;
    }
    steps.push(|| Step::DaySkipped { date: last, why: day.kind });
    let to = next_working_day_explained(cal, last, steps);
    steps.push(|| Step::LastDayMoved { from: last, to });
    to
}

/// Adds `minutes` of working time (`wt` on working days, lunch excluded) to `start`.
fn add_working_minutes_explained(
    cal: &BusinessCalendar,
    wt: &DayHours,
    start: NaiveDateTime,
    minutes: u32,
    steps: &mut Trace,
) -> NaiveDateTime {
    let segments = wt.segments();
    let (mut day, mut t) = (start.date(), start.time());
    if !cal.is_working_day(day) || t >= wt.end {
        day = next_working_day_explained(cal, day, steps);
        t = wt.start;
    }
    let mut left = i64::from(minutes);
    if left == 0 {
        return day.and_time(t.max(wt.start));
    }
    loop {
        for (i, (a, b)) in segments.iter().copied().enumerate() {
            if t >= b {
                continue;
            }
            let from = t.max(a);
            if let (true, Some((l0, l1))) = (i > 0 && wt.is_lunch(t), wt.lunch) {
                steps.push(|| Step::LunchBreak { date: day, from: l0, to: l1 });
            }
            let available = (b - from).num_minutes();
            if left <= available {
                let to = from + Duration::minutes(left);
                steps.push(|| Step::MinutesCounted { date: day, from, to, minutes: left as u32 });
                return day.and_time(to);
            }
            steps.push(|| Step::MinutesCounted { date: day, from, to: b, minutes: available as u32 });
            left -= available;
            t = b;
        }
        day = next_working_day_explained(cal, day, steps);
        t = wt.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DecreeKind;
    use crate::catalog::Catalog;
    use crate::passport::Passport;
    use proptest::prelude::*;

    fn cal() -> &'static BusinessCalendar {
        BusinessCalendar::kazakhstan()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A local Almaty wall-clock time as the UTC instant an API would receive.
    fn almaty(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        cal().from_local(date(y, m, d).and_hms_opt(h, mi, 0).unwrap())
    }

    fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        date(y, m, d).and_hms_opt(h, mi, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn skipped(d: &Deadline) -> Vec<NaiveDate> {
        d.steps.iter().filter_map(|s| if let Step::DaySkipped { date, .. } = s { Some(*date) } else { None }).collect()
    }

    #[test]
    fn nauryz_2024_is_skipped_with_its_observed_monday() {
        let d = due(cal(), almaty(2024, 3, 20, 10, 0), 1, TermUnit::WorkingDays);
        assert_eq!(d.due_date, date(2024, 3, 26));
        assert_eq!(d.due_at, utc("2024-03-26T13:30:00Z"));
        assert_eq!(skipped(&d), (21..=25).map(|day| date(2024, 3, day)).collect::<Vec<_>>());
        assert!(d.steps.iter().any(|s| matches!(s, Step::DaySkipped { why: DayKind::ObservedHoliday { .. }, .. })));
    }

    #[test]
    fn new_year_2025_counts_the_working_sunday() {
        // 1-2 Jan holidays, 3 Jan moved from Sunday 5 Jan (worked), 7 Jan Christmas.
        let d = due(cal(), almaty(2024, 12, 31, 15, 0), 3, TermUnit::WorkingDays);
        let counted: Vec<_> = d
            .steps
            .iter()
            .filter_map(|s| if let Step::DayCounted { date, .. } = s { Some(*date) } else { None })
            .collect();
        assert_eq!(counted, vec![date(2025, 1, 5), date(2025, 1, 6), date(2025, 1, 8)]);
        assert_eq!(
            skipped(&d),
            vec![date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 4), date(2025, 1, 7)]
        );
        assert!(d.steps.iter().any(
            |s| matches!(s, Step::DaySkipped { why: DayKind::TransferredDayOff { decree, .. }, .. } if decree.kind == DecreeKind::MinistryOrder)
        ));
    }

    #[test]
    fn independence_day_on_a_saturday_moves_to_monday() {
        let d = due(cal(), almaty(2023, 12, 15, 17, 0), 1, TermUnit::WorkingDays);
        assert_eq!(d.due_date, date(2023, 12, 19));
        // Before 2022 both 16 and 17 December were days off.
        let d = due(cal(), almaty(2021, 12, 15, 10, 0), 2, TermUnit::WorkingDays);
        assert_eq!(d.due_date, date(2021, 12, 21));
    }

    #[test]
    fn due_at_follows_the_2024_time_zone_change() {
        let before = due(cal(), almaty(2024, 2, 27, 10, 0), 1, TermUnit::WorkingDays);
        assert_eq!(before.due_local, local(2024, 2, 28, 18, 30));
        assert_eq!(before.due_at, utc("2024-02-28T12:30:00Z"));
        let across = due(cal(), almaty(2024, 2, 29, 10, 0), 1, TermUnit::WorkingDays);
        assert_eq!(across.due_local, local(2024, 3, 1, 18, 30));
        assert_eq!(across.due_at, utc("2024-03-01T13:30:00Z"));
        // 12:45 UTC on 29 Feb was 18:45 in Almaty (UTC+6): after hours.
        let f = effective_filing(cal(), utc("2024-02-29T12:45:00Z"));
        assert_eq!(f.moved, Some(FilingMove::AfterHours));
        assert_eq!(f.counted_from, local(2024, 3, 1, 9, 0));
        assert_eq!(f.counted_from_utc, utc("2024-03-01T04:00:00Z"));
        // The same UTC instant a day later (UTC+5) is 17:45: in hours.
        assert_eq!(effective_filing(cal(), utc("2024-03-01T12:45:00Z")).moved, None);
    }

    #[test]
    fn filing_at_1831_on_a_friday_counts_from_monday() {
        let late = due(cal(), almaty(2024, 3, 15, 18, 31), 1, TermUnit::WorkingDays);
        assert_eq!(late.counted_from, local(2024, 3, 18, 9, 0));
        assert_eq!(late.due_date, date(2024, 3, 19));
        assert!(matches!(late.steps[1], Step::FilingMoved { why: FilingMove::AfterHours, .. }));
        let in_time = due(cal(), almaty(2024, 3, 15, 18, 29), 1, TermUnit::WorkingDays);
        assert_eq!(in_time.counted_from, local(2024, 3, 15, 18, 29));
        assert_eq!(in_time.due_date, date(2024, 3, 18));
        // 18:30:00 is already after hours; 09:00:00 is in hours; before 09:00 counts from 09:00.
        assert_eq!(effective_filing(cal(), almaty(2024, 3, 15, 18, 30)).moved, Some(FilingMove::AfterHours));
        assert_eq!(effective_filing(cal(), almaty(2024, 3, 15, 9, 0)).moved, None);
        let early = effective_filing(cal(), almaty(2024, 3, 15, 7, 45));
        assert_eq!((early.moved, early.counted_from), (Some(FilingMove::BeforeHours), local(2024, 3, 15, 9, 0)));
        // Lunch does not move a filing.
        assert_eq!(effective_filing(cal(), almaty(2024, 3, 15, 13, 10)).moved, None);
    }

    #[test]
    fn filing_on_a_holiday_counts_from_the_next_working_day() {
        let f = effective_filing(cal(), almaty(2024, 5, 9, 11, 0));
        assert_eq!(f.counted_from, local(2024, 5, 10, 9, 0));
        assert!(
            matches!(f.moved, Some(FilingMove::DayOff { day: DayKind::Holiday { ref id, .. } }) if id == "victory_day")
        );
        let d = due(cal(), almaty(2024, 5, 9, 11, 0), 1, TermUnit::WorkingDays);
        assert_eq!(d.due_date, date(2024, 5, 13));
        // Filed on Nauryz 2024 (Thursday): taken as filed on Tuesday 26 March.
        assert_eq!(effective_filing(cal(), almaty(2024, 3, 21, 10, 0)).counted_from, local(2024, 3, 26, 9, 0));
    }

    #[test]
    fn working_saturdays_of_decrees_count() {
        // Filing on working Saturday 4 May 2024 is not moved.
        assert_eq!(effective_filing(cal(), almaty(2024, 5, 4, 10, 0)).moved, None);
        // 2018: Saturday 3 March worked, Friday 9 March off.
        let d = due(cal(), almaty(2018, 3, 2, 10, 0), 3, TermUnit::WorkingDays);
        assert_eq!(d.due_date, date(2018, 3, 6));
        let d = due(cal(), almaty(2018, 3, 2, 10, 0), 5, TermUnit::WorkingDays);
        assert_eq!(d.due_date, date(2018, 3, 12), "8 (holiday) and 9 March (transferred) skipped");
    }

    #[test]
    fn day_edges_filing_day_not_counted_and_end_of_working_day() {
        let monday = almaty(2024, 4, 1, 10, 0);
        let zero = due(cal(), monday, 0, TermUnit::WorkingDays);
        assert_eq!(zero.due_local, local(2024, 4, 1, 18, 30));
        let one = due(cal(), monday, 1, TermUnit::WorkingDays);
        assert_eq!(one.due_local, local(2024, 4, 2, 18, 30));
        let cal_one = due(cal(), monday, 1, TermUnit::CalendarDays);
        assert_eq!(cal_one.due_local, local(2024, 4, 2, 18, 30));
    }

    #[test]
    fn calendar_days_ending_on_a_day_off_end_on_the_next_working_day() {
        let d = due(cal(), almaty(2024, 3, 12, 10, 0), 10, TermUnit::CalendarDays);
        assert_eq!(d.due_date, date(2024, 3, 26));
        assert!(d.steps.iter().any(
            |s| matches!(s, Step::LastDayMoved { from, to } if *from == date(2024, 3, 22) && *to == date(2024, 3, 26))
        ));
        // Ending on a plain weekday: not moved.
        assert_eq!(due(cal(), almaty(2024, 4, 1, 10, 0), 10, TermUnit::CalendarDays).due_date, date(2024, 4, 11));
    }

    #[test]
    fn months_clamp_to_the_month_end() {
        assert_eq!(due(cal(), almaty(2024, 1, 31, 10, 0), 1, TermUnit::Months).due_date, date(2024, 2, 29));
        // 31 Jan 2025 + 2 months = 31 March 2025 (Monday).
        assert_eq!(due(cal(), almaty(2025, 1, 31, 10, 0), 2, TermUnit::Months).due_date, date(2025, 3, 31));
        // 29 Feb 2024 + 1 year = 28 Feb 2025 (Friday).
        assert_eq!(due(cal(), almaty(2024, 2, 29, 10, 0), 1, TermUnit::Years).due_date, date(2025, 2, 28));
    }

    #[test]
    fn working_minutes_skip_lunch_nights_and_weekends() {
        let d = due(cal(), almaty(2024, 3, 15, 18, 20), 30, TermUnit::Minutes);
        assert_eq!(d.due_local, local(2024, 3, 18, 9, 20));
        let d = due(cal(), almaty(2024, 4, 2, 12, 50), 30, TermUnit::Minutes);
        assert_eq!(d.due_local, local(2024, 4, 2, 14, 50));
        assert!(d.steps.iter().any(|s| matches!(s, Step::LunchBreak { .. })));
        // Filed in lunch: counting starts at 14:30.
        assert_eq!(due(cal(), almaty(2024, 4, 2, 13, 10), 30, TermUnit::Minutes).due_local, local(2024, 4, 2, 15, 0));
        // Running out exactly at 13:00 ends at 13:00.
        assert_eq!(due(cal(), almaty(2024, 4, 2, 12, 30), 30, TermUnit::Minutes).due_local, local(2024, 4, 2, 13, 0));
        // 2 working hours from 17:30: 60 minutes today, 60 tomorrow.
        assert_eq!(
            due(cal(), almaty(2024, 4, 2, 17, 30), 2, TermUnit::WorkingHours).due_local,
            local(2024, 4, 3, 10, 0)
        );
        // A full working day of minutes from 09:00 ends at 18:30 the same day.
        assert_eq!(due(cal(), almaty(2024, 4, 2, 9, 0), 480, TermUnit::Minutes).due_local, local(2024, 4, 2, 18, 30));
    }

    #[test]
    fn plain_hours_are_astronomical() {
        let d = due(cal(), almaty(2024, 3, 15, 10, 0), 48, TermUnit::Hours);
        assert_eq!(d.due_local, local(2024, 3, 17, 10, 0));
        assert_eq!(d.due_at, almaty(2024, 3, 17, 10, 0));
    }

    #[test]
    fn preliminary_refusal_cut_off_is_three_working_days_before_the_end() {
        assert_eq!(latest_working_day_before(cal(), date(2024, 3, 29), 3), date(2024, 3, 26));
        // Across Nauryz: working days in (18 March, 26 March] are 19, 20 and 26.
        assert_eq!(latest_working_day_before(cal(), date(2024, 3, 26), 3), date(2024, 3, 18));
        assert_eq!(working_days_between(cal(), date(2024, 3, 18), date(2024, 3, 26)), 3);
        // An end on a day off counts from the working day before it.
        assert_eq!(latest_working_day_before(cal(), date(2024, 3, 24), 0), date(2024, 3, 20));
    }

    #[test]
    fn day_account_splits_the_term() {
        let d = due(cal(), almaty(2024, 3, 15, 10, 0), 10, TermUnit::WorkingDays);
        // 18, 19, 20 March; Nauryz 21-25; 26, 27, 28, 29 March; 1, 2, 3 April.
        assert_eq!(d.due_date, date(2024, 4, 3));
        let on = |day| day_account(cal(), &d, day);
        assert_eq!(on(date(2024, 3, 15)), DayAccount { elapsed: 0, remaining: 10, overdue: false });
        assert_eq!(on(date(2024, 3, 23)), DayAccount { elapsed: 3, remaining: 7, overdue: false });
        assert_eq!(on(date(2024, 4, 3)), DayAccount { elapsed: 10, remaining: 0, overdue: false });
        assert_eq!(on(date(2024, 4, 5)), DayAccount { elapsed: 12, remaining: -2, overdue: true });
        assert_eq!(working_days_between(cal(), date(2024, 4, 3), date(2024, 3, 15)), -10);
    }

    #[test]
    fn explanation_renders_in_kazakh_russian_and_english() {
        let d = due(cal(), almaty(2024, 3, 15, 18, 31), 3, TermUnit::WorkingDays);
        for lang in Lang::ALL {
            let lines = d.explain(lang);
            assert_eq!(lines.len(), d.steps.len());
            assert!(lines.iter().all(|l| !l.is_empty()));
            assert!(lines.last().unwrap().contains("18:30"), "{lines:?}");
        }
        assert_eq!(d.explain(Lang::En)[0], "Filed at 2024-03-15 18:31 local time (Asia/Almaty, UTC+05:00)");
        assert!(d.explain(Lang::Ru)[1].starts_with("Подано после окончания рабочего времени"));
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["steps"][1]["step"], "filing_moved");
    }

    #[test]
    fn terms_beyond_the_data_say_they_used_rules_only() {
        let d = due(cal(), almaty(2027, 12, 27, 10, 0), 10, TermUnit::WorkingDays);
        assert_eq!(d.coverage, Coverage::RulesOnly);
        assert!(d.steps.iter().any(|s| matches!(s, Step::RulesOnly { year: 2028 })));
        assert_eq!(due(cal(), almaty(2027, 3, 1, 10, 0), 10, TermUnit::WorkingDays).coverage, Coverage::Data);
    }

    // ---- Per-channel schedules (order No 414, row 7 of each service). The passport used is "permission for
    // a parent deprived of parental rights to meet the child": 5 working days from filing (004:3620-3626),
    // at the provider (Monday to Friday 09:00-18:30, lunch 13:00-14:30, 004:3680-3686) or at the State
    // Corporation (Monday to Saturday 09:00-20:00, no lunch, 004:3687-3693). In November 2026 no day is a
    // holiday, so the working days are the weekdays.

    fn passport(key: &str) -> &'static Passport {
        let s = Catalog::builtin().service(key).unwrap();
        s.versions.last().unwrap()
    }

    fn meeting(channel: Channel) -> Schedule {
        passport("deprived_parent_meeting_permission").schedule(channel, cal())
    }

    fn counted(d: &Deadline) -> Vec<NaiveDate> {
        d.steps.iter().filter_map(|s| if let Step::DayCounted { date, .. } = s { Some(*date) } else { None }).collect()
    }

    #[test]
    fn a_saturday_filing_at_the_state_corporation_counts_from_that_saturday() {
        // Saturday 21 November 2026, 10:00: the State Corporation is open (004:3687-3693), so the filing day
        // is the Saturday; it is not counted, and Saturday is no working day of the provider: Monday 23 to
        // Friday 27 November are the 5 working days. Due Friday 27 November 2026, 18:30.
        let sc = meeting(Channel::StateCorporation);
        assert_eq!(sc.origin, crate::calendar::ScheduleOrigin::Passport);
        let d = due_on(cal(), &sc, almaty(2026, 11, 21, 10, 0), 5, TermUnit::WorkingDays);
        assert_eq!(d.counted_from, local(2026, 11, 21, 10, 0));
        assert!(!d.steps.iter().any(|s| matches!(s, Step::FilingMoved { .. })));
        assert_eq!(counted(&d), (23..=27).map(|day| date(2026, 11, day)).collect::<Vec<_>>());
        assert_eq!(d.due_local, local(2026, 11, 27, 18, 30));
        assert_eq!(d.due_at, utc("2026-11-27T13:30:00Z"));
        // The general rule (the one rule applied to every channel before) moved it to Monday: due 30 November.
        assert_eq!(due(cal(), almaty(2026, 11, 21, 10, 0), 5, TermUnit::WorkingDays).due_date, date(2026, 11, 30));
    }

    #[test]
    fn the_state_corporation_at_19_00_counts_from_that_day() {
        // Wednesday 18 November 2026, 19:00: inside 09:00-20:00 (004:3687-3693). 5 working days: 19, 20, 23,
        // 24, 25 November; due Wednesday 25 November 18:30. At the provider's office or on the portal the same
        // moment is after 18:30 and counts from Thursday 19 November: due Thursday 26 November.
        let at = almaty(2026, 11, 18, 19, 0);
        let sc = due_on(cal(), &meeting(Channel::StateCorporation), at, 5, TermUnit::WorkingDays);
        assert_eq!(sc.counted_from, local(2026, 11, 18, 19, 0));
        assert_eq!(sc.due_date, date(2026, 11, 25));
        let office = due_on(cal(), &meeting(Channel::ProviderOffice), at, 5, TermUnit::WorkingDays);
        assert_eq!(office.counted_from, local(2026, 11, 19, 9, 0));
        assert!(office
            .steps
            .iter()
            .any(|s| matches!(s, Step::FilingMoved { why: FilingMove::AfterChannelHours { .. }, .. })));
        assert_eq!(office.due_date, date(2026, 11, 26));
        // 18:30 at the State Corporation is still open; 20:00 is closed, 19:59 is not.
        let f = |h, m| effective_filing_on(cal(), &meeting(Channel::StateCorporation), almaty(2026, 11, 18, h, m));
        assert_eq!(f(18, 30).moved, None);
        assert_eq!(f(19, 59).moved, None);
        assert_eq!(
            f(20, 0).moved,
            Some(FilingMove::AfterChannelHours { closes: NaiveTime::from_hms_opt(20, 0, 0).unwrap() })
        );
        // No lunch break at the State Corporation, and a lunch break never moves a filing anyway.
        assert_eq!(f(13, 30).moved, None);
    }

    #[test]
    fn the_state_corporation_after_hours_and_on_sundays_and_holidays_takes_it_at_its_next_opening() {
        let sc = meeting(Channel::StateCorporation);
        // Friday 20 November 2026 at 20:30: closed; it next opens Saturday 21 November at 09:00.
        let f = effective_filing_on(cal(), &sc, almaty(2026, 11, 20, 20, 30));
        assert_eq!(f.counted_from, local(2026, 11, 21, 9, 0));
        assert_eq!(
            due_on(cal(), &sc, almaty(2026, 11, 20, 20, 30), 5, TermUnit::WorkingDays).due_date,
            date(2026, 11, 27)
        );
        // Sunday 22 November: closed (004:3687-3693 "except Sundays"); Monday 09:00.
        let f = effective_filing_on(cal(), &sc, almaty(2026, 11, 22, 11, 0));
        assert_eq!(f.counted_from, local(2026, 11, 23, 9, 0));
        assert!(matches!(f.moved, Some(FilingMove::ChannelClosed { day: DayKind::Weekend })));
        // Saturday 2 January 2027 is New Year (closed), Monday 4 January its day off: Tuesday 5 January.
        let f = effective_filing_on(cal(), &sc, almaty(2027, 1, 2, 10, 0));
        assert_eq!(f.counted_from, local(2027, 1, 5, 9, 0));
        // Before 09:00 on a Saturday: from 09:00 that Saturday.
        let f = effective_filing_on(cal(), &sc, almaty(2026, 11, 21, 8, 15));
        assert_eq!((f.moved, f.counted_from), (Some(FilingMove::BeforeHours), local(2026, 11, 21, 9, 0)));
    }

    #[test]
    fn the_portal_after_hours_counts_from_the_next_working_day() {
        // Guardianship establishment, 19 working days (004:2425-2429), portal sub-row 004:2511-2523: filed
        // Wednesday 18 November 2026 at 18:45, accepted Thursday 19 November 09:00.
        let portal = passport("guardianship_establishment").schedule(Channel::Portal, cal());
        assert_eq!(portal.intake, Intake::AroundTheClock { next_working_day: true });
        let d = due_on(cal(), &portal, almaty(2026, 11, 18, 18, 45), 5, TermUnit::WorkingDays);
        assert_eq!(d.counted_from, local(2026, 11, 19, 9, 0));
        assert!(d.steps.iter().any(|s| matches!(s, Step::FilingMoved { why: FilingMove::AfterHours, .. })));
        assert_eq!(d.due_date, date(2026, 11, 26));
        // On a Saturday the portal takes it, but counts it from Monday; the State Corporation from Saturday.
        let sat = almaty(2026, 11, 21, 10, 0);
        assert_eq!(due_on(cal(), &portal, sat, 19, TermUnit::WorkingDays).counted_from, local(2026, 11, 23, 9, 0));
        let sc = passport("guardianship_establishment").schedule(Channel::StateCorporation, cal());
        let (p, s) = (
            due_on(cal(), &portal, sat, 19, TermUnit::WorkingDays),
            due_on(cal(), &sc, sat, 19, TermUnit::WorkingDays),
        );
        // 19 working days from Saturday 21 November: 23-27 Nov, 30 Nov-4 Dec, 7-11 Dec, then 14, 15, 17 and
        // 18 December (16 December is Independence Day): due Friday 18 December; from Monday: 21 December.
        assert_eq!(s.due_date, date(2026, 12, 18));
        assert_eq!(p.due_date, date(2026, 12, 21));
    }

    #[test]
    fn the_provider_office_keeps_its_own_hours() {
        // Child opinion decision (only at the provider, 004:5227-5242), 10 working days (004:5181-5186).
        let office = passport("child_opinion_decision").schedule(Channel::ProviderOffice, cal());
        let hours = DayHours::new(
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(18, 30, 0).unwrap(),
            Some((NaiveTime::from_hms_opt(13, 0, 0).unwrap(), NaiveTime::from_hms_opt(14, 30, 0).unwrap())),
        )
        .unwrap();
        assert_eq!(office.intake, Intake::Office { hours, saturdays: false });
        // Filed Friday 20 November 2026 at 17:00: counts that day; due Friday 4 December 18:30.
        let d = due_on(cal(), &office, almaty(2026, 11, 20, 17, 0), 10, TermUnit::WorkingDays);
        assert_eq!(d.counted_from, local(2026, 11, 20, 17, 0));
        assert_eq!(d.due_local, local(2026, 12, 4, 18, 30));
        // On a Saturday the office is closed: Monday 23 November 09:00, due Monday 7 December.
        let d = due_on(cal(), &office, almaty(2026, 11, 21, 10, 0), 10, TermUnit::WorkingDays);
        assert_eq!(d.counted_from, local(2026, 11, 23, 9, 0));
        assert_eq!(d.due_date, date(2026, 12, 7));
        // The lunch break does not move a filing.
        assert_eq!(effective_filing_on(cal(), &office, almaty(2026, 11, 20, 13, 40)).moved, None);
    }

    #[test]
    fn working_minutes_count_in_the_providers_time_whatever_the_channel() {
        // 30 working minutes from a State Corporation filing at 19:00: the filing counts that day, the
        // minutes from the provider's next working time, Thursday 09:00-09:30.
        let d = due_on(cal(), &meeting(Channel::StateCorporation), almaty(2026, 11, 18, 19, 0), 30, TermUnit::Minutes);
        assert_eq!(d.counted_from, local(2026, 11, 18, 19, 0));
        assert_eq!(d.due_local, local(2026, 11, 19, 9, 30));
    }

    #[test]
    fn the_unemployed_certificate_excludes_the_day_of_issue_too() {
        // Shal akyn 2012, through the CSC: 3 working days, "the days documents are accepted and issued are
        // not counted in the service term" (002:706-713). Filed Monday 11 February 2013: Tuesday 12 to
        // Thursday 14 are the 3 days, Friday 15 February is the day of issue. The 2012 regulation states no
        // hours, so the general rule applies.
        let p = Catalog::builtin().service("unemployed_citizen_certificate").unwrap().versions[0].clone();
        let term = p.service_term(Channel::StateCorporation, None).unwrap();
        assert!(term.excludes_issue_day);
        let schedule = p.schedule(Channel::StateCorporation, cal());
        assert_eq!(schedule.origin, crate::calendar::ScheduleOrigin::General);
        let d = due_for(cal(), &schedule, almaty(2013, 2, 11, 10, 0), term);
        assert_eq!(counted(&d), vec![date(2013, 2, 12), date(2013, 2, 13), date(2013, 2, 14)]);
        assert!(d.steps.iter().any(|s| matches!(s, Step::IssueDayExcluded { last_day, issue_day } if *last_day == date(2013, 2, 14) && *issue_day == date(2013, 2, 15))));
        assert_eq!(d.due_local, local(2013, 2, 15, 18, 30));
        // Filed on Thursday 14 February: 15, 18, 19 February, issued Wednesday 20 February.
        assert_eq!(due_for(cal(), &schedule, almaty(2013, 2, 14, 10, 0), term).due_date, date(2013, 2, 20));
        // Without the flag the same value ends a day earlier.
        assert_eq!(
            due_on(cal(), &schedule, almaty(2013, 2, 11, 10, 0), 3, TermUnit::WorkingDays).due_date,
            date(2013, 2, 14)
        );
    }

    #[test]
    fn a_channel_deadline_explains_its_hours_in_three_languages() {
        let d =
            due_on(cal(), &meeting(Channel::StateCorporation), almaty(2026, 11, 21, 10, 0), 5, TermUnit::WorkingDays);
        assert!(
            matches!(&d.steps[1], Step::ChannelHours { channel: Channel::StateCorporation, source: Some(s), .. } if s.starts_with("004:3687"))
        );
        assert_eq!(
            d.explain(Lang::En)[1],
            "Hours of intake – State Corporation: Monday to Saturday 09:00-20:00, no lunch break, except Sundays and holidays (004:3687-3700 | Order 414, Appendix 13, row 7, subparagraph 2)"
        );
        assert!(d.explain(Lang::Ru)[1].starts_with("График приёма – Государственная корпорация"));
        assert!(d.explain(Lang::Kk)[1].starts_with("Қабылдау кестесі – Мемлекеттік корпорация"));
        // `due` (no channel) keeps the old explanation: no such step.
        assert!(!due(cal(), almaty(2026, 11, 21, 10, 0), 5, TermUnit::WorkingDays)
            .steps
            .iter()
            .any(|s| matches!(s, Step::ChannelHours { .. })));
    }

    #[test]
    fn a_channel_without_a_service_uses_the_hours_order_414_gives_it() {
        let sc = cal().channel_schedule(Channel::StateCorporation);
        assert_eq!(sc.origin, crate::calendar::ScheduleOrigin::CalendarRules);
        assert_eq!(sc.intake, meeting(Channel::StateCorporation).intake);
        assert_eq!(
            due_on(cal(), &sc, almaty(2026, 11, 21, 10, 0), 5, TermUnit::WorkingDays).due_date,
            date(2026, 11, 27)
        );
        let portal = cal().channel_schedule(Channel::Portal);
        assert_eq!(portal.intake, Intake::AroundTheClock { next_working_day: true });
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..5800).prop_map(|o| date(2012, 1, 1) + Duration::days(o))
    }

    fn any_moment() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..5800 * 24 * 60).prop_map(|m| utc("2012-01-01T00:00:00Z") + Duration::minutes(m))
    }

    proptest! {
        /// The fast path (no explanation) is the same arithmetic: for every unit, every channel's
        /// schedule, with and without the day of issue excluded, it gives the explained moment.
        #[test]
        fn the_due_moment_without_explanation_is_the_explained_one(
            filed in any_moment(), n in 0u32..45, u in 0usize..9, c in 0usize..4, excl in any::<bool>(),
        ) {
            let unit = [TermUnit::WorkingDays, TermUnit::CalendarDays, TermUnit::Months, TermUnit::Years,
                TermUnit::Minutes, TermUnit::Seconds, TermUnit::WorkingHours, TermUnit::Hours, TermUnit::WorkingDays][u];
            let schedule = passport("school_camp_referral").schedule(Channel::ALL[c], cal());
            let quiet = compute(cal(), &schedule, filed, n, unit, excl, Trace::quiet());
            let explained = compute(cal(), &schedule, filed, n, unit, excl, Trace::explained());
            prop_assert!(quiet.steps.is_empty());
            prop_assert!(!explained.steps.is_empty());
            prop_assert_eq!(Deadline { steps: Vec::new(), ..explained }, quiet);
            prop_assert_eq!(due_moment(cal(), filed, n, unit).due_at, due(cal(), filed, n, unit).due_at);
        }

        #[test]
        fn adding_working_days_never_lands_on_a_day_off(from in any_date(), n in 1u32..90) {
            prop_assert!(cal().is_working_day(add_working_days(cal(), from, n)));
        }

        #[test]
        fn adding_then_counting_back_is_consistent(from in any_date(), n in 0u32..90) {
            let end = add_working_days(cal(), from, n);
            prop_assert_eq!(working_days_between(cal(), from, end), i64::from(n));
            if cal().is_working_day(from) {
                prop_assert_eq!(latest_working_day_before(cal(), end, n), from);
            }
        }

        #[test]
        fn results_are_monotonic_in_n(filed in any_moment(), n in 0u32..60) {
            for unit in [TermUnit::WorkingDays, TermUnit::CalendarDays, TermUnit::Minutes, TermUnit::WorkingHours, TermUnit::Hours, TermUnit::Months, TermUnit::Years] {
                let a = due(cal(), filed, n, unit);
                let b = due(cal(), filed, n + 1, unit);
                prop_assert!(a.due_at <= b.due_at, "{:?}: {} then {}", unit, a.due_at, b.due_at);
            }
            prop_assert!(add_working_days(cal(), filed.date_naive(), n) < add_working_days(cal(), filed.date_naive(), n + 1));
        }

        #[test]
        fn calendar_days_never_end_after_working_days(filed in any_moment(), n in 0u32..60) {
            let by_calendar = due(cal(), filed, n, TermUnit::CalendarDays);
            let by_working = due(cal(), filed, n, TermUnit::WorkingDays);
            prop_assert!(by_calendar.due_at <= by_working.due_at);
            prop_assert!(cal().is_working_day(by_calendar.due_date));
        }

        #[test]
        fn the_effective_filing_is_in_working_hours_and_never_earlier(filed in any_moment()) {
            let f = effective_filing(cal(), filed);
            let wh = cal().working_hours();
            prop_assert!(f.counted_from_utc >= f.filed_at);
            prop_assert!(cal().is_working_day(f.counted_from.date()));
            prop_assert!(wh.is_open(f.counted_from.time()));
        }

        #[test]
        fn working_minutes_end_inside_working_time(filed in any_moment(), minutes in 1u32..3000) {
            let d = due(cal(), filed, minutes, TermUnit::Minutes);
            let wh = cal().working_hours();
            let t = d.due_local.time();
            prop_assert!(cal().is_working_day(d.due_date));
            prop_assert!(wh.start < t && t <= wh.end && !(wh.lunch_start < t && t <= wh.lunch_end), "{}", d.due_local);
            let counted: u32 = d.steps.iter().map(|s| if let Step::MinutesCounted { minutes, .. } = s { *minutes } else { 0 }).sum();
            prop_assert_eq!(counted, minutes);
        }

        #[test]
        fn a_filing_counts_from_a_moment_its_channel_is_open_and_never_earlier(filed in any_moment(), c in 0usize..4) {
            let channel = Channel::ALL[c];
            let s = passport("school_camp_referral").schedule(channel, cal());
            let f = effective_filing_on(cal(), &s, filed);
            prop_assert!(f.counted_from_utc >= f.filed_at);
            match &s.intake {
                Intake::Office { hours, .. } => {
                    prop_assert!(s.is_open_day(cal(), f.counted_from.date()));
                    prop_assert!(hours.is_open(f.counted_from.time()));
                }
                Intake::AroundTheClock { .. } => {
                    prop_assert!(cal().is_working_day(f.counted_from.date()));
                    prop_assert!(s.working_time.is_open(f.counted_from.time()));
                }
            }
            // A State Corporation filing never counts from later than the same one on the portal.
            let portal = passport("school_camp_referral").schedule(Channel::Portal, cal());
            let sc = passport("school_camp_referral").schedule(Channel::StateCorporation, cal());
            prop_assert!(due_on(cal(), &sc, filed, 5, TermUnit::WorkingDays).due_at <= due_on(cal(), &portal, filed, 5, TermUnit::WorkingDays).due_at);
        }

        #[test]
        fn elapsed_plus_remaining_is_the_term(filed in any_moment(), n in 0u32..40, k in 0i64..60) {
            let d = due(cal(), filed, n, TermUnit::WorkingDays);
            let today = d.counted_from.date() + Duration::days(k);
            if today <= d.due_date {
                let a = day_account(cal(), &d, today);
                prop_assert_eq!(a.elapsed + a.remaining, i64::from(n));
            }
        }
    }
}
