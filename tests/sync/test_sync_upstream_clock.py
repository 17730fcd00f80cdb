"""An upstream whose clock runs behind ours (issue 57, cause 2): its day is still open when
ours has turned. Which days a run reads and whether a day agrees come from the upstream's
answers, never from our clock: every lookback day's head and count in every run, callback
days re-read in every run until they leave the lookback. Our clock is injected (`now=`):
the runs happen at 02:30 and 02:45 UTC on our clock whatever the hour the suite runs at."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.engine import sync_environment
from sync.models import CallbackDay
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("behind", [timedelta(hours=3), timedelta(hours=5)])
def test_a_day_the_upstream_still_writes_is_read_after_our_midnight(org_a, behind):
    ours = datetime(END.year, END.month, END.day, 2, 30, tzinfo=UTC) + timedelta(days=1)
    config = small_config(days=2, calls_per_day=400, now=ours - behind)
    with served(config) as (sim, server):
        # Three days back from our today: the upstream's two.
        env = point_env(org_a, sim, server, backfill_days=3)
        assert not sync_environment(env, now=ours).failed
        assert mirror_diff(env, sim) == []
        # 15 minutes on, both clocks: the upstream's END (our yesterday) got new calls and
        # callbacks; our clock would have called that day over at 02:00.
        before = sim.truth.call_count(ENV, END, END)
        sim.advance(timedelta(minutes=15))
        outcome = sync_environment(env, now=ours + timedelta(minutes=15))
        assert not outcome.failed
        assert sim.truth.call_count(ENV, END, END) > before
        assert mirror_diff(env, sim) == [], [r.details for r in outcome.runs]
        got = CallbackDay.objects.get(environment=env, day=END)
        assert got.raw == sim.truth.callback_stats(ENV, END, END)
