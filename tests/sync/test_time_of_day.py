"""What a run does at a given hour of our clock, under a frozen clock in process (nothing
injected: `timezone.now()` itself reads 23:58, 00:30, 02:30 or 12:00 UTC), whatever the hour
the suite runs at. The upstream's days are São Paulo's (UTC-3): at 00:30 and 02:30 UTC its
day is still yesterday, at 23:58 its day is ours. Every run plans from our clock, reads
every lookback day's head and callback day, and the sync page's per-day counts are the
last counts of the upstream's days."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from reports.pages.sync_status import day_counts
from sync.engine import sync_environment
from sync.models import CallbackDay
from sync.providers.talkover import incremental
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

ZONE = "America/Sao_Paulo"


@pytest.mark.parametrize("hour", [time(23, 58), time(0, 30), time(2, 30), time(12, 0)],
                         ids=lambda t: t.strftime("%H%M"))
def test_runs_at_any_hour_of_our_clock(org_a, hour):
    ours = datetime.combine(END + timedelta(days=1), hour, UTC)
    # tick: the clock moves on from `ours` (timeouts and run durations keep working).
    with time_machine.travel(ours, tick=True) as traveller:
        assert timezone.now() - ours < timedelta(minutes=1)
        # The simulator's clock is the frozen wall clock too (no `now` given).
        config = small_config(days=3, calls_per_day=150, end_date=None, date_zone=ZONE)
        with served(config) as (sim, server):
            assert abs(sim.now - ours) < timedelta(minutes=1)
            env = point_env(org_a, sim, server)
            assert not sync_environment(env).failed
            traveller.shift(timedelta(minutes=15))
            sim.advance(timedelta(minutes=15))
            began = timezone.now()
            outcome = sync_environment(env)
            assert not outcome.failed, [r.details for r in outcome.runs]
            today = timezone.now().date()
            # Planning reads our date from the frozen clock: the lookback's days, today
            # included, and every one of them had its head read this run.
            hot = incremental.refreshed_days(today, env.lookback_days)
            assert hot[-1] == today and len(hot) == env.lookback_days + 1
            first = max(sim.start_date, hot[0])
            since = max(datetime.combine(first, time.min, UTC),
                        datetime.combine(first, time.min, ZoneInfo(ZONE)).astimezone(UTC))
            assert mirror_diff(env, sim, since=since) == [], [r.details for r in outcome.runs]
            # Callback days inside the lookback are read again in every run, whatever the
            # hour: none is settled by our clock.
            for day in hot:
                if day < sim.start_date or day > sim.today:
                    continue
                got = CallbackDay.objects.get(environment=env, day=day)
                assert got.fetched_at >= began, (day, got.fetched_at, began)
                assert got.raw == sim.truth.callback_stats(ENV, day, day), day
            # The sync page: per lookback day, the upstream's last count and the mirror's.
            shown = day_counts(env, timezone.now())
            assert shown and {d.day for d in shown} <= set(hot)
            for row in shown:
                if row.calls_upstream is not None:
                    assert row.calls_upstream == row.calls_mirrored, row
                    assert row.calls_upstream == sim.truth.call_count(ENV, row.day, row.day), \
                        [r.details for r in outcome.runs]
                    assert row.calls_at >= began
