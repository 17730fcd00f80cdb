"""An upstream whose clock runs behind or ahead of ours: its day may still
be open when ours has turned, or begin before ours. Which days a run reads and whether a day
agrees come from the upstream's answers, never from our clock: every lookback day's count in
every run, taken last (and the day after our today's, from the first back-fill on), the heads
of the days it shows moving, callback days re-read in every run until they leave the lookback.
Our clock is injected (`now=`), at 23:58, 00:30, 02:30 and 12:00 UTC, whatever the hour the
suite runs at."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from sync.engine import sync_environment
from sync.models import CallbackDay
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("hour", "upstream"), [
    (time(0, 30), timedelta(hours=-3)),
    (time(2, 30), timedelta(hours=-3)),
    (time(2, 30), timedelta(hours=-5)),
    (time(12, 0), timedelta(hours=-13)),
    (time(23, 58), timedelta(hours=1)),
])
def test_the_upstreams_open_day_is_read_whatever_our_hour(org_a, hour, upstream):
    """Upstream `upstream` from ours: its day END is still open (or, ahead, its END + 1 has
    begun) when our clock reads `hour`; 15 minutes on, what it wrote is all mirrored."""
    ours = datetime.combine(END + timedelta(days=1), hour, UTC)
    theirs = ours + upstream
    # The data set runs a day past the upstream's clock (calls appear as its clock reaches
    # them): its midnight may come while we watch.
    config = small_config(days=3, calls_per_day=400, end_date=theirs.date() + timedelta(days=1),
                          now=theirs)
    with served(config) as (sim, server):
        # Back from our today to the upstream's first day.
        env = point_env(org_a, sim, server,
                        backfill_days=(ours.date() - sim.start_date).days + 1)
        first = max(sim.start_date, ours.date() - timedelta(days=env.lookback_days))
        assert not sync_environment(env, now=ours).failed
        sim.advance(timedelta(minutes=15))
        day = sim.today
        before = sim.truth.call_count(ENV, day, day)
        sim.advance(timedelta(minutes=15))
        assert sim.truth.call_count(ENV, day, day) > before
        outcome = sync_environment(env, now=ours + timedelta(minutes=30))
        assert not outcome.failed
        assert mirror_diff(env, sim, first=first) == [], \
            [r.details for r in outcome.runs]
        for written in {day, sim.today}:
            got = CallbackDay.objects.get(environment=env, day=written)
            assert got.raw == sim.truth.callback_stats(ENV, written, written), written


@pytest.mark.parametrize(("hour", "upstream"), [
    (time(23, 30), timedelta(hours=1)),
    (time(12, 0), timedelta(hours=13)),
])
def test_the_first_backfill_reads_what_an_upstream_ahead_of_us_dated_after_our_today(
        org_a, hour, upstream):
    """The first run is a back-fill, with the upstream's clock `upstream` ahead of ours: its
    day after our today has begun and holds calls. That run already leaves the mirror equal
    to the upstream, those calls and that day's callback figures included."""
    ours = datetime.combine(END, hour, UTC)
    theirs = ours + upstream
    config = small_config(days=3, calls_per_day=400, end_date=theirs.date(), now=theirs)
    with served(config) as (sim, server):
        assert sim.truth.call_count(ENV, sim.today, sim.today) > 0  # it has begun
        env = point_env(org_a, sim, server, backfill_days=2)
        outcome = sync_environment(env, now=ours)
        assert not outcome.failed
        first = ours.date() - timedelta(days=1)
        assert mirror_diff(env, sim, first=first) == [], [r.details for r in outcome.runs]
        got = CallbackDay.objects.get(environment=env, day=sim.today)
        assert got.raw == sim.truth.callback_stats(ENV, sim.today, sim.today)
