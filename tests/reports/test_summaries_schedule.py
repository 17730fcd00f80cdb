"""Scheduling in the subscription's timezone: right local hour across DST, right period."""
from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime

import pytest

from reports.summaries.schedule import Cadence, Period, next_run_after, period_for_run

NY = zoneinfo.ZoneInfo("America/New_York")
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
LON = zoneinfo.ZoneInfo("Europe/London")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(run: datetime, tz) -> tuple:
    moment = run.astimezone(tz)
    return moment.date(), moment.hour


@pytest.mark.parametrize(
    ("tz", "after", "expected_utc"),
    [
        # New York, spring forward Sun 2026-03-08: Monday 08:00 is EDT (UTC-4) after it.
        (NY, utc(2026, 3, 2, 13, 0), utc(2026, 3, 9, 12, 0)),
        # ... and EST (UTC-5) the week before.
        (NY, utc(2026, 2, 25, 0, 0), utc(2026, 3, 2, 13, 0)),
        # New York, fall back Sun 2026-11-01: Monday 08:00 is EST again.
        (NY, utc(2026, 10, 26, 12, 0), utc(2026, 11, 2, 13, 0)),
        (NY, utc(2026, 10, 20, 0, 0), utc(2026, 10, 26, 12, 0)),
        # London, BST starts Sun 2026-03-29 and ends Sun 2026-10-25.
        (LON, utc(2026, 3, 23, 8, 0), utc(2026, 3, 30, 7, 0)),
        (LON, utc(2026, 10, 19, 7, 0), utc(2026, 10, 26, 8, 0)),
        # Sao Paulo had DST until 2019: starts Sun 2018-11-04, ends Sun 2019-02-17.
        (SP, utc(2018, 10, 29, 11, 0), utc(2018, 11, 5, 10, 0)),
        (SP, utc(2019, 2, 11, 10, 0), utc(2019, 2, 18, 11, 0)),
        # Since 2019 no DST: always UTC-3.
        (SP, utc(2026, 11, 16, 11, 0), utc(2026, 11, 23, 11, 0)),
    ],
)
def test_weekly_monday_8am_keeps_local_hour_across_dst(tz, after, expected_utc):
    run = next_run_after(Cadence.WEEKLY, 0, 8, tz, after)
    assert run == expected_utc
    assert run.astimezone(tz).hour == 8
    assert run.astimezone(tz).weekday() == 0


def test_daily_runs_each_local_day_at_the_hour_through_both_ny_transitions():
    runs, moment = [], utc(2026, 3, 6, 0, 0)
    for _ in range(5):
        moment = next_run_after(Cadence.DAILY, 0, 7, NY, moment)
        runs.append(moment)
    assert [local(r, NY) for r in runs] == [(date(2026, 3, d), 7) for d in range(6, 11)]
    # 12:00 UTC before the change, 11:00 UTC after: the spring-forward day is 23 hours long.
    assert [r.hour for r in runs] == [12, 12, 11, 11, 11]
    assert (runs[2] - runs[1]).total_seconds() == 23 * 3600
    fall, moment = [], utc(2026, 10, 31, 0, 0)
    for _ in range(3):
        moment = next_run_after(Cadence.DAILY, 0, 7, NY, moment)
        fall.append(moment)
    assert [local(r, NY) for r in fall] == [(date(2026, 10, d), 7) for d in (31,)] + [
        (date(2026, 11, 1), 7), (date(2026, 11, 2), 7)
    ]
    assert (fall[2] - fall[1]).total_seconds() == 24 * 3600
    assert (fall[1] - fall[0]).total_seconds() == 25 * 3600


def test_an_hour_skipped_by_dst_runs_just_after_the_gap_once():
    # 02:00 does not exist in New York on 2026-03-08; the run happens at 03:00 EDT.
    run = next_run_after(Cadence.DAILY, 0, 2, NY, utc(2026, 3, 7, 12, 0))
    assert run == utc(2026, 3, 8, 7, 0)
    assert run.astimezone(NY).hour == 3
    # Midnight did not exist in Sao Paulo on 2018-11-04 (clocks went 00:00 -> 01:00).
    sp = next_run_after(Cadence.DAILY, 0, 0, SP, utc(2018, 11, 3, 12, 0))
    assert sp.astimezone(SP).date() == date(2018, 11, 4) and sp.astimezone(SP).hour == 1


def test_an_hour_repeated_by_dst_runs_once_at_its_first_occurrence():
    run = next_run_after(Cadence.DAILY, 0, 1, NY, utc(2026, 10, 31, 12, 0))
    assert run == utc(2026, 11, 1, 5, 0)  # 01:00 EDT, not 01:00 EST an hour later
    again = next_run_after(Cadence.DAILY, 0, 1, NY, run)
    assert again.astimezone(NY).date() == date(2026, 11, 2)


def test_monthly_runs_on_the_first_at_the_local_hour():
    run = next_run_after(Cadence.MONTHLY, 0, 6, LON, utc(2026, 3, 15, 0, 0))
    assert run == utc(2026, 4, 1, 5, 0)  # BST
    assert next_run_after(Cadence.MONTHLY, 0, 6, LON, run) == utc(2026, 5, 1, 5, 0)
    assert next_run_after(Cadence.MONTHLY, 0, 6, LON, utc(2026, 12, 5)) == utc(2027, 1, 1, 6, 0)


def test_next_run_is_strictly_after_and_uses_the_local_date_not_utc():
    # 2026-11-23 01:00 UTC is still Sunday 22:00 in Sao Paulo: Monday 08:00 is 10 hours away.
    run = next_run_after(Cadence.WEEKLY, 0, 8, SP, utc(2026, 11, 23, 1, 0))
    assert run == utc(2026, 11, 23, 11, 0)
    assert next_run_after(Cadence.WEEKLY, 0, 8, SP, run) == utc(2026, 11, 30, 11, 0)


def test_period_is_previous_full_local_week_day_or_month():
    run = utc(2026, 11, 23, 11, 0)  # Monday 08:00 Sao Paulo
    assert period_for_run(Cadence.WEEKLY, run, SP) == Period(date(2026, 11, 16), date(2026, 11, 22))
    # A Wednesday run still reports the last complete Mon-Sun week.
    wed = utc(2026, 11, 25, 11, 0)
    assert period_for_run(Cadence.WEEKLY, wed, SP) == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert period_for_run(Cadence.DAILY, run, SP) == Period(date(2026, 11, 22), date(2026, 11, 22))
    assert period_for_run(Cadence.MONTHLY, utc(2026, 3, 1, 9), SP) == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    # Local date decides: 02:00 UTC Monday is still Sunday in Sao Paulo.
    sunday_night = utc(2026, 11, 23, 2, 0)
    assert period_for_run(Cadence.DAILY, sunday_night, SP).start == date(2026, 11, 21)
