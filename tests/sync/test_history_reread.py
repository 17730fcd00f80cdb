"""Every provider honours `--full` and a longer `--backfill-days`: after a first back-fill of
one day, a horizon three days back reads the two days not yet mirrored, and `--full` reads
every day again (calls lost from the mirror since, as after a restore, come back) — for
Talkover, Origins AI and Vapi alike, against the simulator over real HTTP."""
from __future__ import annotations

import pytest

from sync.engine import sync_environment
from sync.models import Call
from sync.simulator import running_simulator
from tests.support.origins import origins_env
from tests.support.sync_support import mirror_diff, point_env, served, small_config
from tests.support.vapi import upstream_calls, vapi_config, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)

DAYS = 3


@pytest.fixture(autouse=True)
def _unpaced(settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000


def _ok(outcome) -> None:
    assert not outcome.failed and not outcome.skipped, [r.error for r in outcome.runs]


def _lose_oldest_day(env) -> int:
    """Calls of the oldest mirrored UTC day deleted (as a restore of an older dump would):
    how many."""
    oldest = Call.objects.filter(environment=env).order_by("started_at").first().started_at
    lost = Call.objects.filter(environment=env, started_at__date=oldest.date())
    count = lost.count()
    lost.delete()
    return count


def test_talkover_reaches_back_and_rereads(org_a):
    with served(small_config(days=DAYS, calls_per_day=60)) as (sim, server):
        env = point_env(org_a, sim, server, backfill_days=1)
        _ok(sync_environment(env, now=sim.now))
        assert mirror_diff(env, sim) != [], "one day of three mirrored"
        _ok(sync_environment(env, now=sim.now, backfill_days=DAYS))
        assert mirror_diff(env, sim) == []
        assert _lose_oldest_day(env) > 0
        _ok(sync_environment(env, now=sim.now, full=True))
        assert mirror_diff(env, sim) == []


def test_origins_reaches_back_and_rereads(org_a):
    with served(small_config(days=DAYS)) as (sim, server):
        env = origins_env(org_a, sim, server)
        env.backfill_days = 1
        env.save(update_fields=["backfill_days"])
        _ok(sync_environment(env, now=sim.now))
        total = Call.objects.filter(environment=env).count()
        assert total > 0
        _ok(sync_environment(env, now=sim.now, backfill_days=DAYS))
        assert Call.objects.filter(environment=env).count() == total
        lost = _lose_oldest_day(env)
        assert lost > 0
        outcome = sync_environment(env, now=sim.now, full=True)
        _ok(outcome)
        assert Call.objects.filter(environment=env).count() == total
        assert sum(r.created for r in outcome.runs) == lost


def test_vapi_reaches_back_and_rereads(org_a):
    with running_simulator(vapi_config(days=DAYS, calls_per_day=120)) as (sim, server):
        env = vapi_env(org_a, sim, server, backfill_days=1)
        every = upstream_calls(sim, server, sim.start_date, sim.today)
        _ok(sync_environment(env, now=sim.now))
        first = Call.objects.filter(environment=env).count()
        assert 0 < first < len(every), "one day of three mirrored"

        server.clear_log()
        _ok(sync_environment(env, now=sim.now, streams=["calls"], backfill_days=DAYS))
        assert set(Call.objects.filter(environment=env).values_list(
            "external_id", flat=True)) == set(every)
        days_read = {r.query["createdAtGe"] for r in server.request_log
                     if r.path == "/call" and "createdAtGe" in r.query}
        assert len(days_read) >= DAYS - 1, "the two days before the first were read"

        lost = _lose_oldest_day(env)
        assert lost > 0
        outcome = sync_environment(env, now=sim.now, full=True)
        _ok(outcome)
        assert set(Call.objects.filter(environment=env).values_list(
            "external_id", flat=True)) == set(every)
        assert sum(r.created for r in outcome.runs) == lost
