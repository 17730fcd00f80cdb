"""The mirror's contract (DESIGN.md, Sync; issue 36): after every successful run, every call
in the lookback is mirrored with the upstream's values, call by call and field by field,
whatever the lateness of its status.

A property test over random lateness (the simulator's long tail, at far higher shares than
its default so that small data meets it often), random runs (the clock moving minutes to
more than a day between them) and random faults (errors, 429s, truncated bodies, calls
inserted while paging). Small data and a few examples, derandomized: the same cases on every
machine, never flaky.

What the property leaves out, on purpose: calls the `insert` fault adds *during* the run
checked (they arrive after the part of the listing they land in was read, as a new call
does: the next run reads them), and calls it adds to a day that is no longer hot (a call
created in the past is something only the simulator does; the daily reconciliation reads
them).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import Environment
from sync.engine import sync_environment
from sync.providers.http import HttpClient
from sync.providers.talkover import incremental
from sync.simulator import Lateness
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(END.year, END.month, END.day, 9, 0, tzinfo=UTC)

lateness = st.builds(
    lambda short, long, gone: Lateness(((short, 0.5, 4.0), (long, 12.0, 30.0),
                                        (gone, 72.0, 120.0))),
    st.sampled_from([0.0, 0.1, 0.3]), st.sampled_from([0.0, 0.1, 0.25]),
    st.sampled_from([0.0, 0.05]))
# Minutes between runs: a few, a few hours, more than a day.
advance = st.one_of(st.integers(1, 30), st.integers(60, 300), st.integers(700, 1900))
fault = st.one_of(
    st.just(""),
    st.builds("500={},502={}".format, st.sampled_from([0.1, 0.25]), st.sampled_from([0, 0.1])),
    st.builds("429={}:0,truncate={}".format, st.sampled_from([0.1, 0.3]),
              st.sampled_from([0, 0.1])),
    st.builds("insert={}@{}".format, st.integers(1, 4), st.integers(1, 3)),
)
runs = st.lists(st.tuples(advance, fault, st.integers(0, 99)), min_size=2, max_size=3)


def _inserted(sim) -> dict[str, datetime]:
    """The calls the insert fault (or `insert_calls`) added so far: id -> created."""
    store = sim.talkover_store(ENV)
    return {r.id: datetime.fromtimestamp(r.t0, UTC) for recs in store._inserted.values()
            for r in recs}


@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(late=lateness, plan=runs)
def test_after_every_successful_run_the_lookback_is_exact(org_a, late, plan):
    config = small_config(days=2, calls_per_day=80, now=START, lateness=late)
    # Retries at once: the faults are the point, not the backoff's sleeping.
    with mock.patch.object(HttpClient, "_backoff", lambda self, attempt: 0.0), \
            served(config) as (sim, server):
        Environment.objects.filter(organization=org_a).delete()
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        succeeded = 0
        for minutes, faults, seed in plan:
            sim.advance(timedelta(minutes=minutes))
            sim.faults = f"{faults},seed={seed}" if faults else None
            before = set(_inserted(sim))
            outcome = sync_environment(env, now=sim.now)
            sim.faults = None
            if outcome.failed:
                continue
            succeeded += 1
            hot = set(incremental.hot_days(sim.now))
            exempt = frozenset(i for i, at in _inserted(sim).items()
                               if i not in before or at.date() not in hot)
            first = max(sim.start_date, sim.today - timedelta(days=env.lookback_days))
            assert mirror_diff(env, sim, first=first, exempt=exempt) == [], \
                (minutes, faults, [r.details for r in outcome.runs])
        assert succeeded, "every run failed: the property was never checked"
