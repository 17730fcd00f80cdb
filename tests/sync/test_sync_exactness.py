"""The mirror's contract (docs/operations.md, "The sync at work"): after every successful run
the mirror equals the upstream over the whole lookback, call by call and field by field, and
callback day by day, whatever the upstream's clock, its lateness and whatever it inserts while
we page.

A property test over random clock offsets (the upstream's clock hours behind or ahead of
ours), random zones of its date filters and callback days (UTC-12 to UTC+14: the calls are
compared by `created_at`, the callback days per the upstream's own days), random lateness
(the simulator's long tail, at far higher shares than its default so that small data meets
it often), random runs (the clock moving minutes to hours between
them, from 22:30 on the upstream's clock: across its midnight and ours) and random faults
(errors, 429s, truncated bodies, calls inserted while paging at any page of any listing:
heads, status listings, counts). Nothing is exempt: a call inserted while a run pages is
counted by that run's last counts and read. Small data and a few examples, derandomized:
the same cases on every machine, never flaky.

Calls the upstream dates after our today before any of our runs has seen one there (its clock
ahead of ours at the first back-fill) are left to the next run: the property is checked from
the first incremental run on.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from portal.models import Environment
from sync.engine import sync_environment
from sync.models import CallbackDay
from sync.providers.http import HttpClient
from sync.simulator import Lateness
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(END.year, END.month, END.day, 22, 30, tzinfo=UTC)

lateness = st.builds(
    lambda short, long: Lateness(((short, 0.5, 4.0), (long, 12.0, 30.0))),
    st.sampled_from([0.0, 0.1, 0.3]), st.sampled_from([0.0, 0.1, 0.25]))
# The upstream's clock less ours, in hours: behind, the same, ahead.
offset = st.sampled_from([-5, -3, -1, 0, 1, 3])
# The zone of the upstream's date filters and callback days: UTC-12 to UTC+14, half hours too.
zone = st.sampled_from(["Etc/GMT+12", "America/Sao_Paulo", "America/New_York", "UTC",
                        "Asia/Kolkata", "Asia/Tokyo", "Pacific/Kiritimati"])
# Minutes between runs: a few, an hour or more.
advance = st.one_of(st.integers(1, 40), st.integers(60, 200))
fault = st.one_of(
    st.just(""),
    st.builds("500={},502={}".format, st.sampled_from([0.1, 0.25]), st.sampled_from([0, 0.1])),
    st.builds("429={}:0,truncate={}".format, st.sampled_from([0.1, 0.3]),
              st.sampled_from([0, 0.1])),
    # Calls arriving while we page, just before page 1..3 of any listing is answered.
    st.builds("insert={}@{}x{}:early".format, st.integers(1, 4), st.integers(1, 3),
              st.integers(1, 2)),
)
runs = st.lists(st.tuples(advance, fault, st.integers(0, 99)), min_size=2, max_size=3)


def callback_diff(env, sim, first: date) -> list[str]:
    """Callback days first..the upstream's today whose mirrored figures differ (a day the
    upstream has no call of yet may be absent)."""
    problems, day = [], first
    while day <= sim.today:
        want = sim.truth.callback_stats(ENV, day, day)
        got = CallbackDay.objects.filter(environment=env, day=day).first()
        if (got.raw if got else None) != want and not (
                got is None and want["total_callbacks_received"] == 0
                and not sim.truth.call_count(ENV, day, day)):
            problems.append(f"callback day {day}: {got and got.raw} != {want}")
        day += timedelta(days=1)
    return problems


# No shrinking: a failing case is printed whole, and a shrink would take minutes of syncs.
@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(hours=offset, zone=zone, late=lateness, plan=runs)
def test_after_every_successful_run_the_lookback_is_exact(org_a, hours, zone, late, plan):
    config = small_config(days=2, calls_per_day=60, now=START, lateness=late, date_zone=zone)
    ours = timedelta(hours=-hours)  # our clock less the upstream's
    # Retries at once: the faults are the point, not the backoff's sleeping.
    with mock.patch.object(HttpClient, "_backoff", lambda self, attempt: 0.0), \
            served(config) as (sim, server):
        Environment.objects.filter(organization=org_a).delete()
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now + ours).failed
        # The back-fill reads `days` days to our today.
        backfilled = (sim.now + ours).date() - timedelta(days=config.days - 1)
        succeeded = 0
        for minutes, faults, seed in plan:
            sim.advance(timedelta(minutes=minutes))
            sim.faults = f"{faults},only=/api/v1/calls,seed={seed}" if faults else None
            outcome = sync_environment(env, now=sim.now + ours)
            sim.faults = None
            if outcome.failed:
                continue
            succeeded += 1
            today = (sim.now + ours).date()
            first = max(sim.start_date, backfilled, today - timedelta(days=env.lookback_days))
            # The lookback's calls: from the later of its first day's starts, ours and the
            # upstream's (a day of its zone may begin hours after ours).
            since = max(datetime.combine(first, time.min, UTC),
                        datetime.combine(first, time.min, ZoneInfo(zone)).astimezone(UTC))
            assert mirror_diff(env, sim, since=since) == [], \
                (hours, zone, minutes, faults, [r.details for r in outcome.runs])
            assert callback_diff(env, sim, first) == [], (hours, zone, minutes, faults)
        assert succeeded, "every run failed: the property was never checked"
