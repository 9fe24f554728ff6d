//! Due dates for applications, from the passport's term on the business calendar.
//!
//! Temporary weekend-only arithmetic (UTC+5, 09:00-18:30, Mon-Fri); replaced by the domain's deadline
//! engine on the Kazakh production calendar.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use domain::passport::TermUnit;

pub struct Due {
    pub counted_from: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub due_date: NaiveDate,
}

fn zone() -> FixedOffset {
    FixedOffset::east_opt(5 * 3600).expect("valid offset")
}

pub fn local_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone()).date_naive()
}

fn working(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_working(mut d: NaiveDate) -> NaiveDate {
    d += Duration::days(1);
    while !working(d) {
        d += Duration::days(1);
    }
    d
}

fn at(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    zone().from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap())).unwrap().with_timezone(&Utc)
}

pub fn service_due(filed_at: DateTime<Utc>, value: u32, unit: TermUnit) -> Due {
    let local = filed_at.with_timezone(&zone());
    let day = local.date_naive();
    let in_hours = working(day)
        && local.time() >= NaiveTime::from_hms_opt(9, 0, 0).unwrap()
        && local.time() < NaiveTime::from_hms_opt(18, 30, 0).unwrap();
    let counted_from = if in_hours {
        filed_at
    } else if working(day) && local.time() < NaiveTime::from_hms_opt(9, 0, 0).unwrap() {
        at(day, 9, 0)
    } else {
        at(next_working(day), 9, 0)
    };
    let start_day = counted_from.with_timezone(&zone()).date_naive();
    let (due_at, due_date) = match unit {
        TermUnit::WorkingDays => {
            let mut d = start_day;
            for _ in 0..value {
                d = next_working(d);
            }
            (at(d, 18, 30), d)
        }
        TermUnit::CalendarDays | TermUnit::Months | TermUnit::Years => {
            let mut d = start_day + Duration::days(value as i64);
            if !working(d) {
                d = next_working(d);
            }
            (at(d, 18, 30), d)
        }
        TermUnit::Minutes | TermUnit::Hours | TermUnit::WorkingHours => {
            let mins = if unit == TermUnit::Minutes { value as i64 } else { value as i64 * 60 };
            let t = counted_from + Duration::minutes(mins);
            (t, t.with_timezone(&zone()).date_naive())
        }
    };
    Due { counted_from, due_at, due_date }
}
