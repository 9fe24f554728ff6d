use super::*;
use chrono::{NaiveTime, Timelike};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn cal() -> &'static BusinessCalendar {
    BusinessCalendar::kazakhstan()
}

/// Weekday days off (MM-DD) and working weekend days per year, as reviewed against the sources listed in
/// `domain/catalog/calendar/README.md` (and compared with the python `holidays` package in CI,
/// `tests/calendar_reference/`). A change to the data that moves any of these must be deliberate.
const EXPECTED: &[(i32, &str, &str)] = &[
    (2012, "01-02,01-03,03-08,03-09,03-21,03-22,03-23,04-30,05-01,05-09,07-06,08-30,10-26,12-03,12-17,12-18,12-31", "03-11,04-28,12-29"),
    (2013, "01-01,01-02,01-07,03-08,03-21,03-22,03-25,05-01,05-07,05-09,05-10,07-08,08-30,10-14,10-15,12-02,12-16,12-17", "05-04,10-12,12-28"),
    (2014, "01-01,01-02,01-03,01-07,03-10,03-21,03-24,03-25,05-01,05-02,05-07,05-08,05-09,07-07,09-01,12-01,12-16,12-17", "05-04,05-11"),
    (2015, "01-01,01-02,01-07,03-09,03-23,03-24,03-25,05-01,05-07,05-11,07-06,08-31,09-24,12-01,12-16,12-17", ""),
    (2016, "01-01,01-04,01-07,03-07,03-08,03-21,03-22,03-23,05-02,05-09,05-10,07-06,08-30,09-12,12-01,12-16,12-19", "03-05"),
    (2017, "01-02,01-03,03-08,03-20,03-21,03-22,03-23,05-01,05-08,05-09,07-06,07-07,08-30,09-01,12-01,12-18,12-19", "03-18,07-01"),
    (2018, "01-01,01-02,03-08,03-09,03-21,03-22,03-23,04-30,05-01,05-07,05-08,05-09,07-06,08-21,08-30,08-31,12-03,12-17,12-18,12-31", "03-03,04-28,05-05,08-25,12-29"),
    (2019, "01-01,01-02,01-07,03-08,03-21,03-22,03-25,05-01,05-07,05-09,05-10,07-08,08-30,12-02,12-16,12-17", "05-04"),
    (2020, "01-01,01-02,01-03,01-07,03-09,03-23,03-24,03-25,05-01,05-07,05-08,07-06,07-31,08-31,12-01,12-16,12-17,12-18", "01-05,05-11,12-20"),
    (2021, "01-01,01-04,01-07,03-08,03-22,03-23,03-24,05-03,05-07,05-10,07-05,07-06,07-20,08-30,12-01,12-16,12-17", "07-03"),
    (2022, "01-03,01-04,01-07,03-07,03-08,03-21,03-22,03-23,05-02,05-09,05-10,07-06,08-29,08-30,10-24,10-25,12-16", "03-05,08-27,10-22"),
    (2023, "01-02,01-03,03-08,03-21,03-22,03-23,05-01,05-08,05-09,06-28,07-06,07-07,08-30,10-25,12-18", "07-01"),
    (2024, "01-01,01-02,03-08,03-21,03-22,03-25,05-01,05-07,05-08,05-09,07-08,08-30,10-25,12-16", "05-04"),
    (2025, "01-01,01-02,01-03,01-07,03-10,03-21,03-24,03-25,05-01,05-07,05-09,06-06,07-07,09-01,10-27,12-16", "01-05"),
    (2026, "01-01,01-02,01-07,03-09,03-23,03-24,03-25,05-01,05-07,05-11,05-27,07-06,10-26,12-16", ""),
    (2027, "01-01,01-04,01-07,03-08,03-15,03-22,03-23,03-24,05-03,05-07,05-10,07-06,10-25,12-16", ""),
];

fn mmdd(dates: impl Iterator<Item = NaiveDate>) -> String {
    dates.map(|d| d.format("%m-%d").to_string()).collect::<Vec<_>>().join(",")
}

#[test]
fn shipped_data_covers_2012_to_2027() {
    let cal = BusinessCalendar::shipped().expect("valid data");
    assert_eq!(cal.data_years().collect::<Vec<_>>(), (2012..=2027).collect::<Vec<_>>());
    assert_eq!(cal.zone(), chrono_tz::Asia::Almaty);
    assert_eq!(cal.working_hours().minutes_per_day(), 480);
}

#[test]
fn every_year_matches_the_reviewed_production_calendar() {
    for (year, weekday_offs, working_weekends) in EXPECTED {
        let offs = cal().non_working_days(*year).into_iter().filter(|d| d.weekday().num_days_from_monday() < 5);
        assert_eq!(&mmdd(offs), weekday_offs, "weekday days off of {year}");
        let worked = cal().working_weekend_days(*year).into_iter().map(|d| d.date);
        assert_eq!(&mmdd(worked), working_weekends, "working weekend days of {year}");
    }
}

#[test]
fn nauryz_2024_on_a_saturday_gives_monday_off() {
    let c = cal();
    assert!(matches!(c.day(date(2024, 3, 21)).kind, DayKind::Holiday { ref id, .. } if id == "nauryz"));
    assert!(matches!(c.day(date(2024, 3, 23)).kind, DayKind::Holiday { .. }));
    match c.day(date(2024, 3, 25)).kind {
        DayKind::ObservedHoliday { holiday_id, holiday_date, .. } => {
            assert_eq!(holiday_id, "nauryz");
            assert_eq!(holiday_date, date(2024, 3, 23));
        }
        other => panic!("25 March 2024 should be the day off for Nauryz, got {other:?}"),
    }
    assert!(c.is_working_day(date(2024, 3, 26)));
}

#[test]
fn nauryz_on_a_weekend_pair_moves_two_days_past_the_holidays() {
    // 2026: 21 Sat, 22 Sun, 23 Mon -> 24 and 25 March off.
    let offs: Vec<_> = cal().days_off(2026).into_iter().filter(|d| d.date.month() == 3).map(|d| d.date.day()).collect();
    assert_eq!(offs, vec![8, 9, 21, 22, 23, 24, 25]);
}

#[test]
fn religious_holidays_are_not_moved() {
    let c = cal();
    // Orthodox Christmas on Saturday 7 January 2023; Monday 9 January is a working day.
    assert!(matches!(c.day(date(2023, 1, 7)).kind, DayKind::Holiday { religious: true, .. }));
    assert!(c.is_working_day(date(2023, 1, 9)));
    // Kurban Ait on Sunday 16 June 2024; Monday 17 June is a working day.
    assert!(matches!(c.day(date(2024, 6, 16)).kind, DayKind::Holiday { ref id, .. } if id == "kurban_ait"));
    assert!(c.is_working_day(date(2024, 6, 17)));
}

#[test]
fn holidays_follow_the_years_they_were_in_force() {
    let c = cal();
    assert!(c.is_working_day(date(2012, 5, 7)), "Defender of the Fatherland Day is a day off from 2013");
    assert!(!c.is_working_day(date(2013, 5, 7)));
    assert!(!c.is_working_day(date(2021, 12, 1)), "First President Day until 2021");
    assert!(c.is_working_day(date(2022, 12, 1)));
    assert!(!c.is_working_day(date(2021, 12, 17)));
    assert_eq!(c.day(date(2022, 12, 17)).kind, DayKind::Weekend, "17 December is no holiday from 2022");
    assert!(c.is_working_day(date(2022, 12, 19)));
    assert!(c.is_working_day(date(2021, 10, 25)), "Republic Day is a day off again from 2022");
    assert!(!c.is_working_day(date(2022, 10, 25)));
}

#[test]
fn the_2026_holiday_law_moves_constitution_day_to_15_march_from_2027() {
    let c = cal();
    // Until 2025: 30 August (Saturday in 2025, so Monday 1 September off).
    assert!(matches!(c.day(date(2025, 8, 30)).kind, DayKind::Holiday { ref id, .. } if id == "constitution_day"));
    assert!(!c.is_working_day(date(2025, 9, 1)));
    // 2026: no Constitution Day at all; 30 August is a plain Sunday and Monday 31 August a working day.
    assert_eq!(c.day(date(2026, 8, 30)).kind, DayKind::Weekend);
    assert!(c.is_working_day(date(2026, 8, 31)));
    assert!(c.is_working_day(date(2026, 3, 16)), "15 March 2026 (Sunday) is no holiday yet: no day off moved");
    assert!(c
        .days_off(2026)
        .iter()
        .all(|d| !matches!(&d.kind, DayKind::Holiday { id, .. } if id == "constitution_day")));
    // From 2027: 15 March (Monday in 2027); 30 August 2027 (Monday) is a working day.
    assert!(matches!(c.day(date(2027, 3, 15)).kind, DayKind::Holiday { ref id, .. } if id == "constitution_day"));
    assert!(c.is_working_day(date(2027, 8, 30)));
    // 2028 (rules only): 15 March is a Wednesday, a day off.
    assert!(!c.is_working_day(date(2028, 3, 15)));
}

#[test]
fn republic_day_is_renamed_from_2026() {
    let c = cal();
    let name = |d: NaiveDate| match c.day(d).kind {
        DayKind::Holiday { name, .. } => name.resolve(Lang::Kk).to_string(),
        DayKind::ObservedHoliday { holiday_name, .. } => holiday_name.resolve(Lang::Kk).to_string(),
        other => panic!("{d}: {other:?}"),
    };
    assert_eq!(name(date(2025, 10, 25)), "Республика күні");
    assert_eq!(name(date(2026, 10, 25)), "Қазақстан Республикасы күні");
    // The day off for it (Sunday 25 October 2026 -> Monday 26 October) carries the new name too.
    assert_eq!(name(date(2026, 10, 26)), "Қазақстан Республикасы күні");
    assert!(
        matches!(c.day(date(2026, 10, 26)).kind, DayKind::ObservedHoliday { ref holiday_id, .. } if holiday_id == "republic_day")
    );
}

#[test]
fn two_rules_of_one_holiday_may_not_overlap() {
    let mut rules = cal().rules().clone();
    let mut twice = rules.holidays.iter().find(|h| h.id == "constitution_day" && h.from == Some(2027)).unwrap().clone();
    twice.from = Some(2025);
    rules.holidays.push(twice);
    assert!(
        matches!(BusinessCalendar::new(rules, vec![]), Err(CalendarError::Invalid(m)) if m.contains("constitution_day"))
    );
}

#[test]
fn decree_transfers_make_weekday_off_and_weekend_working() {
    let c = cal();
    let may4 = c.day(date(2024, 5, 4));
    assert!(may4.working);
    assert!(
        matches!(may4.kind, DayKind::WorkingByDecree { day_off_moved_to, .. } if day_off_moved_to == date(2024, 5, 8))
    );
    match c.day(date(2024, 5, 8)).kind {
        DayKind::TransferredDayOff { from, decree } => {
            assert_eq!(from, date(2024, 5, 4));
            assert_eq!(decree.kind, DecreeKind::MinistryOrder);
            assert_eq!(decree.date, Some(date(2024, 4, 17)));
        }
        other => panic!("8 May 2024 should be a transferred day off, got {other:?}"),
    }
    // A transfer across years: Saturday 28 December 2013 worked for Friday 3 January 2014.
    assert!(c.is_working_day(date(2013, 12, 28)));
    assert!(
        matches!(c.day(date(2014, 1, 3)).kind, DayKind::TransferredDayOff { from, .. } if from == date(2013, 12, 28))
    );
    // A working Sunday: 5 January 2025.
    assert!(c.is_working_day(date(2025, 1, 5)));
    // 2020: Victory Day (Saturday) observed on Friday 8 May; Monday 11 May worked.
    assert!(!c.is_working_day(date(2020, 5, 8)));
    assert!(c.is_working_day(date(2020, 5, 11)));
}

#[test]
fn years_outside_the_data_fall_back_to_rules_or_fail_on_request() {
    let c = cal();
    let ny = c.day(date(2030, 1, 1));
    assert_eq!(ny.coverage, Coverage::RulesOnly);
    assert!(!ny.working);
    assert!(matches!(
        c.try_day(date(2030, 1, 1)),
        Err(CalendarError::OutsideData { year: 2030, first: 2012, last: 2027 })
    ));
    assert!(c.try_day(date(2024, 1, 1)).is_ok());
    // 2028: 1-2 January on Sat-Sun -> 3 and 4 January off by the rules.
    assert!(!c.is_working_day(date(2028, 1, 3)));
    assert!(!c.is_working_day(date(2028, 1, 4)));
    assert!(c.is_working_day(date(2028, 1, 5)));
    assert!(c.check_year(2011).is_err());
}

fn year_2026_with(transfers: &str) -> String {
    format!(
        "year: 2026\nkurban_ait: {{date: 2026-05-27, confidence: confirmed}}\n\
         decrees:\n  - {{id: test-order, kind: ministry_order, number: \"1\", date: 2026-02-01, confidence: confirmed}}\n\
         transfers:\n{transfers}"
    )
}

#[test]
fn with_year_replaces_a_years_transfers() {
    let yaml = year_2026_with("  - {day_off: 2026-05-08, working_day: 2026-05-16, decree: test-order}\n");
    let year: YearData = serde_yaml::from_str(&yaml).unwrap();
    let edited = cal().with_year(year).expect("valid transfer");
    assert!(!edited.is_working_day(date(2026, 5, 8)));
    assert!(edited.is_working_day(date(2026, 5, 16)));
    assert!(cal().is_working_day(date(2026, 5, 8)), "the shipped calendar is unchanged");
    // A year beyond the data can be added too.
    let y2028: YearData = serde_yaml::from_str("year: 2028\nkurban_ait: {date: 2028-05-05}\n").unwrap();
    let extended = cal().with_year(y2028).unwrap();
    assert_eq!(extended.coverage(2028), Coverage::Data);
    assert!(!extended.is_working_day(date(2028, 5, 5)));
}

/// The working-day index answers as the day itself does, on every day from 2011 to 2031 (data years,
/// and years around them that only the rules cover), for the shipped calendar and one with a year
/// added after a gap (2030, leaving 2028-2029 to the rules).
#[test]
fn the_working_day_index_agrees_with_each_day() {
    let y2030: YearData = serde_yaml::from_str("year: 2030\nkurban_ait: {date: 2030-04-13}\n").unwrap();
    let gap = cal().with_year(y2030).unwrap();
    for c in [cal(), &gap] {
        let mut d = date(2011, 1, 1);
        while d < date(2032, 1, 1) {
            assert_eq!(c.is_working_day(d), c.day(d).working, "{d}");
            d = d.succ_opt().unwrap();
        }
    }
    assert_eq!(gap.coverage(2029), Coverage::RulesOnly);
}

#[test]
fn with_year_rejects_impossible_transfers() {
    let on_holiday = year_2026_with("  - {day_off: 2026-05-07, working_day: 2026-05-16, decree: test-order}\n");
    let weekday_worked = year_2026_with("  - {day_off: 2026-05-08, working_day: 2026-05-12, decree: test-order}\n");
    let no_decree = year_2026_with("  - {day_off: 2026-05-08, working_day: 2026-05-16, decree: nope}\n");
    for yaml in [on_holiday, weekday_worked, no_decree] {
        let year: YearData = serde_yaml::from_str(&yaml).unwrap();
        assert!(matches!(cal().with_year(year), Err(CalendarError::Invalid(_))), "{yaml}");
    }
}

#[test]
fn almaty_moved_from_utc6_to_utc5_on_1_march_2024() {
    let c = cal();
    let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let local = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    assert_eq!(c.to_local(utc("2024-02-29T12:00:00Z")), local("2024-02-29 18:00"));
    assert_eq!(c.to_local(utc("2024-03-01T12:00:00Z")), local("2024-03-01 17:00"));
    assert_eq!(c.from_local(local("2024-02-28 18:30")), utc("2024-02-28T12:30:00Z"));
    assert_eq!(c.from_local(local("2024-03-01 18:30")), utc("2024-03-01T13:30:00Z"));
    // 23:30 on 29 February 2024 happened twice; the first one is taken.
    assert_eq!(c.from_local(local("2024-02-29 23:30")), utc("2024-02-29T17:30:00Z"));
    // A western provider keeps its own zone (UTC+5 throughout).
    let west = c.with_zone(chrono_tz::Asia::Aqtobe);
    assert_eq!(west.to_local(utc("2023-06-01T12:00:00Z")), local("2023-06-01 17:00"));
    assert_eq!(c.to_local(utc("2023-06-01T12:00:00Z")), local("2023-06-01 18:00"));
}

#[test]
fn working_hours_keep_lunch_inside_the_day() {
    let wh = cal().working_hours();
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    assert!(wh.is_open(t(9, 0)) && wh.is_open(t(13, 10)) && !wh.is_open(t(18, 30)) && !wh.is_open(t(8, 59)));
    assert!(wh.is_lunch(t(13, 0)) && !wh.is_lunch(t(14, 30)));
    assert_eq!(wh.end.hour(), 18);
}

#[test]
fn reasons_render_in_three_languages_and_serialize() {
    let c = cal();
    for d in
        [date(2024, 3, 22), date(2024, 3, 25), date(2024, 5, 4), date(2024, 5, 8), date(2024, 3, 16), date(2024, 3, 18)]
    {
        let info = c.day(d);
        for lang in Lang::ALL {
            assert!(!info.kind.describe(lang).is_empty());
        }
        let json = serde_json::to_string(&info).unwrap();
        let back: DayInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
    }
    assert_eq!(c.day(date(2024, 3, 22)).kind.describe(Lang::Ru), "праздничный день: Наурыз мейрамы");
    let order = c.decree("gov-2017-864").unwrap();
    assert_eq!(order.citation(Lang::En), "Government resolution No 864 of 2017");
    assert_eq!(order.citation(Lang::Ru), "постановление Правительства РК № 864 (2017)");
}

#[test]
fn every_shipped_decree_is_cited_and_used() {
    let c = cal();
    for year in c.data_years() {
        let data = c.year_data(year).unwrap();
        for d in &data.decrees {
            assert!(d.number.is_some() || d.note.is_some(), "{year}: decree {} lacks a number and a note", d.id);
            assert!(d.date.is_some() || d.year.is_some() || d.note.is_some(), "{year}: decree {} is undated", d.id);
            assert!(data.transfers.iter().any(|t| t.decree == d.id), "{year}: decree {} moves nothing", d.id);
        }
        assert!(data.kurban_ait.is_some(), "{year}: Kurban Ait missing");
    }
}
