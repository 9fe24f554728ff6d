#!/usr/bin/env python3
"""Compare the business calendar the API serves with the python `holidays` package (KZ).

For every year (2012-2027 by default) it reads `GET /api/v1/calendar/{year}` and compares, date by date,
the weekday days off and the weekend days made working days with `holidays.KZ` (>= 0.108: the Law on
holidays as amended in 2026). A difference fails unless `domain/catalog/calendar/README.md` lists it in
its "reference-differences" table with a reason; a listed difference that does not occur fails as well,
so the table never goes stale. Exit status 0 only when both hold.

Usage: check.py --base-url http://127.0.0.1:8080 [--years 2012-2027] [--readme PATH]
       check.py --self-test   (shows that a difference is caught; needs only the package)
"""
import argparse
import datetime as dt
import json
import re
import sys
import urllib.request
from pathlib import Path

import holidays

MIN_VERSION = (0, 108)
ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "domain" / "catalog" / "calendar" / "README.md"


def version_tuple(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:2])


def reference(year):
    """(weekday days off, working weekend days) of `year` by the package."""
    # The next year is populated too: a transfer decree may make a day of `year` a working day for a day
    # off of the next one (28 December 2013 for 3 January 2014).
    kz = holidays.KZ(years=[year, year + 1])
    offs = {d for d in kz if d.year == year and d.weekday() < 5}
    worked = {d for d in kz.weekend_workdays if d.year == year}
    return offs, worked


def ours(base_url, year):
    """(weekday days off, working weekend days) of `year` as the API serves them."""
    with urllib.request.urlopen(f"{base_url}/api/v1/calendar/{year}?lang=en", timeout=30) as r:
        body = json.load(r)
    if body.get("coverage") != "data":
        raise SystemExit(f"{year}: the API has no calendar data for the year (coverage {body.get('coverage')})")
    to_date = dt.date.fromisoformat
    offs = {to_date(d["date"]) for d in body["days_off"] if to_date(d["date"]).weekday() < 5}
    worked = {to_date(d["date"]) for d in body["working_weekend_days"] if to_date(d["date"]).weekday() >= 5}
    return offs, worked


def differences(year, our, ref):
    """Every date where the two disagree, as (year, date, ours, package)."""
    (our_off, our_work), (ref_off, ref_work) = our, ref
    out = []
    for d in sorted(our_off ^ ref_off):
        out.append((year, d.isoformat(), "day off" if d in our_off else "working day",
                    "day off" if d in ref_off else "working day"))
    for d in sorted(our_work ^ ref_work):
        out.append((year, d.isoformat(), "working weekend day" if d in our_work else "weekend day off",
                    "working weekend day" if d in ref_work else "weekend day off"))
    return out


def listed(readme):
    """The README's table of accepted differences: {(year, date): (ours, package, reason)}."""
    text = readme.read_text(encoding="utf-8")
    m = re.search(r"<!-- reference-differences: begin -->(.*?)<!-- reference-differences: end -->", text, re.S)
    if not m:
        raise SystemExit(f"{readme}: no reference-differences table (between the begin/end markers)")
    rows = {}
    for line in m.group(1).strip().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("year", "") or set(cells[0]) <= set("-: "):
            continue
        year, date, our, ref, reason = cells
        if not reason:
            raise SystemExit(f"{readme}: the difference {year} {date} gives no reason")
        rows[(int(year), date)] = (our, ref, reason)
    return rows


def judge(found, accepted, years):
    """(failures, accepted differences seen) for the differences `found` in `years`."""
    failures, seen = [], []
    for year, date, our, ref in found:
        entry = accepted.get((year, date))
        if entry is None:
            failures.append(f"{date}: we say {our}, the package says {ref}; not listed in the README")
        elif (entry[0], entry[1]) != (our, ref):
            failures.append(f"{date}: we say {our}, the package {ref}; the README lists {entry[0]} / {entry[1]}")
        else:
            seen.append((year, date))
    for (year, date) in accepted:
        if year in years and (year, date) not in seen and not any(f.startswith(date) for f in failures):
            failures.append(f"{date}: listed in the README as a difference, but both agree now")
    return failures, seen


def self_test():
    """A calendar one day off from the package must fail, and pass once the README lists the day."""
    ref = reference(2026)
    wrong = (ref[0] | {dt.date(2026, 8, 31)}, ref[1])  # the pre-2026 reading: 31 August off
    found = differences(2026, wrong, ref)
    assert found == [(2026, "2026-08-31", "day off", "working day")], found
    failures, _ = judge(found, {}, {2026})
    assert len(failures) == 1, failures
    failures, seen = judge(found, {(2026, "2026-08-31"): ("day off", "working day", "test")}, {2026})
    assert not failures and seen == [(2026, "2026-08-31")], failures
    failures, _ = judge([], {(2026, "2026-08-31"): ("day off", "working day", "test")}, {2026})
    assert failures and "agree now" in failures[0], failures
    print("calendar reference self-test: an unlisted difference fails, a listed one passes, a stale listing fails")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url")
    ap.add_argument("--years", default="2012-2027")
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()

    if version_tuple(holidays.__version__) < MIN_VERSION:
        raise SystemExit(f"holidays {holidays.__version__} is older than 0.108 (the 2026 Law on holidays)")
    if args.self_test:
        self_test()
        return 0
    if not args.base_url:
        ap.error("--base-url is required")
    first, last = (int(x) for x in args.years.split("-"))
    years = set(range(first, last + 1))
    accepted = listed(args.readme)
    print(f"comparing {first}-{last} of {args.base_url} with holidays {holidays.__version__} (KZ)")
    passed = failed = 0
    for year in sorted(years):
        found = differences(year, ours(args.base_url.rstrip("/"), year), reference(year))
        failures, seen = judge(found, accepted, {year})
        for y, date in seen:
            print(f"  {year}: {date} differs as listed: {accepted[(y, date)][2]}")
        if failures:
            failed += 1
            print(f"FAIL {year}:")
            for f in failures:
                print(f"    {f}")
        else:
            passed += 1
            print(f"ok   {year}")
    print(f"calendar: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
