//! Deadline computation (issue 11, target: at least 1M per second per core).
//!
//! `cargo bench -p domain --bench deadline`. Every benchmark computes one deadline per element over a
//! fixed spread of 1024 filing moments (2025-2026, any minute of any day: nights, weekends, holidays,
//! working Saturdays and the hours around the 18:30 cut-off), so criterion's `thrpt` line is deadlines
//! per second on one core and `time` / 1024 the time of one call.
//!
//! - `due/*`: `deadline::due` (the general rule) for a term in working days, calendar days, hours and
//!   working hours.
//! - `due_for/*`: `deadline::due_for` with a passport's own schedule (`Passport::schedule`, computed
//!   once, as a caller that keeps it would) and the passport's service term, for the portal, the State
//!   Corporation and the provider's office.
//! - `due_moment_for/*`: the same cases without the explanation (`deadline::due_moment_for`,
//!   `deadline::due_moment`), the path filing and recomputation take.
//! - `due_at_filing/catalog_mix`: what filing does (`timing::due_at_filing`: the service term, the
//!   schedule built for the channel, then `due_for`), cycling through every (passport version that
//!   accepts applications, channel) pair of the catalog.

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use domain::application::timing;
use domain::calendar::BusinessCalendar;
use domain::calendar::Schedule;
use domain::catalog::Catalog;
use domain::deadline;
use domain::passport::{Channel, Passport, Stage, Term, TermUnit};

const MOMENTS: usize = 1024;

/// 1024 filing moments spread over 2025-2026 by a fixed linear congruential sequence (no `rand`
/// dependency; the same moments on every run).
fn moments() -> Vec<DateTime<Utc>> {
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let span_minutes: u64 = 2 * 365 * 24 * 60;
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..MOMENTS)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            start + Duration::minutes(((x >> 33) % span_minutes) as i64)
        })
        .collect()
}

fn passport<'c>(catalog: &'c Catalog, key: &str) -> &'c Passport {
    let service = catalog.service(key).unwrap_or_else(|| panic!("no service {key} in the catalog"));
    service
        .versions
        .iter()
        .rev()
        .find(|p| p.accepts_applications())
        .unwrap_or_else(|| panic!("{key}: no version accepts applications"))
}

/// The passport's service term for `channel`: the general one, else the first subtype's (the
/// accreditation states one term per subtype).
fn service_term(p: &Passport, channel: Channel) -> &Term {
    timing::service_term(p, channel, None)
        .or_else(|| p.terms.iter().find(|t| t.stage == Stage::Service && t.applies_to(channel, t.subtype.as_deref())))
        .unwrap_or_else(|| panic!("{}: no service term for {}", p.key, channel.code()))
}

fn bench_due(c: &mut Criterion) {
    let cal = BusinessCalendar::kazakhstan();
    let at = moments();
    let mut g = c.benchmark_group("due");
    g.throughput(Throughput::Elements(MOMENTS as u64));
    for (name, value, unit) in [
        ("working_days_5", 5, TermUnit::WorkingDays),
        ("working_days_30", 30, TermUnit::WorkingDays),
        ("calendar_days_30", 30, TermUnit::CalendarDays),
        ("hours_24", 24, TermUnit::Hours),
        ("working_hours_2", 2, TermUnit::WorkingHours),
    ] {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                for &t in &at {
                    black_box(deadline::due(cal, black_box(t), value, unit));
                }
            })
        });
    }
    g.finish();
}

/// The passports, channels and service terms `due_for` and `due_moment_for` are measured on.
const CASES: [(&str, Channel); 4] = [
    ("free_school_meals", Channel::Portal),
    ("free_school_meals", Channel::ProviderOffice),
    ("free_school_transport", Channel::StateCorporation),
    ("adoption_agency_accreditation", Channel::Portal),
];

type DueFor = fn(&BusinessCalendar, &Schedule, DateTime<Utc>, &Term) -> deadline::Deadline;

/// One benchmark per case of [`CASES`] in `group`, each computing `due` over the filing moments.
fn bench_cases<'c>(c: &'c mut Criterion, group: &str, due: DueFor) -> criterion::BenchmarkGroup<'c, WallTime> {
    let cal = BusinessCalendar::kazakhstan();
    let catalog = Catalog::builtin();
    let at = moments();
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(MOMENTS as u64));
    for (key, channel) in CASES {
        let p = passport(catalog, key);
        let term = service_term(p, channel);
        let schedule = p.schedule(channel, cal);
        let id = format!("{key}/{}/{}_{}", channel.code(), term.value, term.unit.code());
        g.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                for &t in &at {
                    black_box(due(cal, &schedule, black_box(t), term));
                }
            })
        });
    }
    g
}

fn bench_due_for(c: &mut Criterion) {
    bench_cases(c, "due_for", deadline::due_for).finish();
}

/// The same cases as `due_for`, without the explanation (`deadline::due_moment_for`): what filing and a
/// calendar change's recomputation call; `due_for` builds the steps that `POST /calendar/deadline`
/// and the history show.
fn bench_due_moment_for(c: &mut Criterion) {
    let cal = BusinessCalendar::kazakhstan();
    let at = moments();
    let mut g = bench_cases(c, "due_moment_for", deadline::due_moment_for);
    for (name, value, unit) in
        [("working_days_30", 30, TermUnit::WorkingDays), ("calendar_days_30", 30, TermUnit::CalendarDays)]
    {
        g.bench_function(BenchmarkId::from_parameter(format!("general/{name}")), |b| {
            b.iter(|| {
                for &t in &at {
                    black_box(deadline::due_moment(cal, black_box(t), value, unit));
                }
            })
        });
    }
    g.finish();
}

fn bench_due_at_filing(c: &mut Criterion) {
    let cal = BusinessCalendar::kazakhstan();
    let catalog = Catalog::builtin();
    let at = moments();
    let pairs: Vec<(&Passport, Channel)> = catalog
        .services()
        .flat_map(|s| s.versions.iter())
        .filter(|p| p.accepts_applications())
        .flat_map(|p| p.channels.iter().map(move |&ch| (p, ch)))
        .filter(|(p, ch)| timing::service_term(p, *ch, None).is_some())
        .collect();
    assert!(pairs.len() > 5, "the catalog has few (passport, channel) pairs with a service term: {}", pairs.len());
    let mut g = c.benchmark_group("due_at_filing");
    g.throughput(Throughput::Elements(MOMENTS as u64));
    g.bench_function(BenchmarkId::from_parameter(format!("catalog_mix_{}_pairs", pairs.len())), |b| {
        b.iter(|| {
            for (i, &t) in at.iter().enumerate() {
                let (p, ch) = pairs[i % pairs.len()];
                black_box(timing::due_at_filing(cal, p, ch, None, black_box(t)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_due, bench_due_for, bench_due_moment_for, bench_due_at_filing);
criterion_main!(benches);
