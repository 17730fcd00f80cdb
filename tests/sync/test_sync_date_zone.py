"""An upstream whose date filters and callback days are another zone's days (Talkover does
not say which zone): its counts show it, the ledger then compares each of its days with the
calls its filter lists there, and a run with nothing new is cheap again."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sync.engine import sync_environment
from sync.models import Call, StreamState
from sync.models.core import Trigger
from sync.models.ledger import CallDayLedger
from sync.providers.talkover.cursor import CallsCursor
from sync.stream_names import Stream
from sync.webhooks.hints import Hint
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)


def _learned(org, config) -> timedelta:
    """Back-fill, one run (which learns the upstream's days from its counts), then a run with
    nothing new: as cheap as against a UTC upstream (docs/operations.md, "The sync at work": <=
    12 requests), every lookback day agreeing, the mirror exact over the lookback. The shift
    learned."""
    with served(config) as (sim, server):
        env = point_env(org, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        sim.advance(timedelta(minutes=1))
        assert not sync_environment(env, now=sim.now).failed
        state = StreamState.objects.get(environment=env, stream=Stream.CALLS)
        shift = CallsCursor(state.cursor).day_shift
        sim.advance(timedelta(minutes=1))
        server.clear_log()
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed
        assert server.request_count <= 12, [r.details for r in outcome.runs]
        lookback = [sim.now.date() - timedelta(days=k) for k in range(env.lookback_days + 1)]
        rows = CallDayLedger.objects.filter(environment=env, day__in=lookback)
        assert len(rows) == len(lookback) and all(r.agrees for r in rows), [
            (r.day, r.upstream, r.mirrored) for r in rows]
        assert mirror_diff(env, sim, since=datetime.combine(
            lookback[-1], datetime.min.time(), UTC) + timedelta(days=1)) == []
    return shift


@pytest.mark.parametrize(("zone", "shift"), [
    ("Etc/GMT+12", -12 * 60), ("America/Sao_Paulo", -3 * 60), ("UTC", 0),
    ("Asia/Kolkata", 5 * 60 + 30), ("Pacific/Kiritimati", 14 * 60),
])
def test_the_upstreams_days_are_learned_from_its_counts(org_a, zone, shift):
    now = datetime(END.year, END.month, END.day, 12, 0, tzinfo=UTC)
    config = small_config(days=4, calls_per_day=200, now=now, date_zone=zone, lateness=None)
    assert _learned(org_a, config) == timedelta(minutes=shift)


@pytest.mark.parametrize("end", [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 13)])
def test_a_zone_that_changes_its_offset_in_or_before_the_lookback(org_a, end):
    """America/New_York moves from UTC-5 to UTC-4 on 2026-03-08, a 23-hour day: inside the
    lookback (`end` 03-09, 03-10) or inside the back-fill only (03-13). The shift learned
    from the counts is one under which every lookback day's count is what the mirror holds
    of it (the quiet hour that moved holds no call here, so UTC-4 or a quarter hour from it
    fits the 23-hour day too); a day whose count said otherwise would be counted again and
    read whole, never taken as agreeing."""
    now = datetime(end.year, end.month, end.day, 12, 0, tzinfo=UTC)
    config = small_config(days=6, calls_per_day=200, end_date=end, now=now,
                          date_zone="America/New_York", lateness=None)
    assert timedelta(hours=-5) <= _learned(org_a, config) <= timedelta(hours=-3, minutes=-45)


def test_a_webhook_round_reads_the_upstreams_days_it_learned(org_a):
    """Asia/Kolkata (UTC+05:30), 12:00 UTC: the upstream's today began at 18:30 UTC the day
    before. A call created at 20:00 UTC that day, still answered when the schedule last read
    it, ends; a delivery names it. The round reads today's head under the shift the schedule
    learned (one page: its count is what the mirror holds of the upstream's today, not of the
    UTC day) and searches the call's SID in the day the upstream dates it (today), so one round
    makes it final: three requests. Under UTC's days the head read a page more, and the
    search, asked on the UTC day before, found nothing: the call stayed answered."""
    now = datetime(END.year, END.month, END.day, 12, 0, tzinfo=UTC)
    config = small_config(days=2, calls_per_day=3000, now=now, date_zone="Asia/Kolkata",
                          lateness=None)
    with served(config) as (sim, server):
        day_before = END - timedelta(days=1)
        late = next(c for c in sim.truth.calls(ENV, day_before, END)
                    if c["status"] == "completed"
                    and f"{day_before}T20:00" < c["created_at"] < f"{day_before}T21")
        sim.end_late(ENV, late["id"], now + timedelta(minutes=5))
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        sim.advance(timedelta(minutes=1))
        assert not sync_environment(env, now=sim.now).failed  # learns the upstream's days
        assert Call.objects.get(external_id=late["id"]).status == "answered"
        sim.advance(timedelta(minutes=9))
        server.clear_log()
        outcome = sync_environment(env, now=sim.now, streams=["calls"],
                                   trigger=Trigger.WEBHOOK, hints=[Hint(id=late["id"])])
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert Call.objects.get(external_id=late["id"]).status == "completed"
        asked = [q.query for q in server.request_log if q.path.endswith("/calls")]
        heads = [q for q in asked if "status" not in q and "search" not in q]
        assert [(q["date_from"], q["page"]) for q in heads] == [(str(END), "1")], asked
        assert [q["date_from"] for q in asked if "search" in q] == [str(END)], asked
        assert len(asked) <= 3, asked
