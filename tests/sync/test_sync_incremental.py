"""Incremental Talkover calls: requests follow change, nothing is missed, the
ledger says what was reconciled, and `--backfill-days` sticks.

Small data: two days of 300 calls a day, the clock in the afternoon of the last one.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.engine import sync_environment
from sync.models import Call
from sync.models.ledger import CallDayLedger
from sync.providers.talkover.hot_window import covering, moved_on
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

# Syncs write from the prefetching thread too: those tests commit for real.
synced = pytest.mark.django_db(transaction=True)

AFTERNOON = datetime(END.year, END.month, END.day, 15, 0, tzinfo=UTC)


def _config(**kw: object):
    return small_config(days=2, calls_per_day=300, now=AFTERNOON, **kw)


def _calls_requests(server, since: int) -> list[dict]:
    return [q.query for q in server.request_log[since:] if q.path.endswith("/calls")]


@synced
def test_nothing_new_costs_a_handful_and_fifteen_minutes_cost_the_change(org_a):
    with served(_config()) as (sim, server):
        env = point_env(org_a, sim, server)
        first = sync_environment(env, now=sim.now)
        assert not first.failed and mirror_diff(env, sim) == []
        assert all(row.reconciled_at and row.agrees
                   for row in CallDayLedger.objects.filter(environment=env))

        before = len(server.request_log)
        again = sync_environment(env, now=sim.now)
        assert not again.failed
        assert len(server.request_log) - before <= 10, server.request_log[before:]
        calls = again.runs[1]
        # The newest day's head, the open calls' status listings, the count taken last.
        assert calls.requests <= 5 and calls.created + calls.updated == 0

        sim.advance(timedelta(minutes=15))
        before = len(server.request_log)
        later = sync_environment(env, now=sim.now)
        run = later.runs[1]
        assert not later.failed and run.created > 0
        assert mirror_diff(env, sim) == []
        # What changed needs ceil(changed / 100) pages; a few more pay for the checks.
        needed = -(-(run.created + run.updated) // 100)
        assert run.requests <= 2 * needed + 6, (run.requests, needed, run.details)
        # Yesterday was reconciled today, not read whole again: its calls were counted last,
        # in one range with today's and the day after our today's (an upstream ahead of us
        # dates calls there), and its open calls with today's (status listings from the
        # lookback's first day); only today's head was read, the newest day the mirror holds
        # a call of.
        asked = _calls_requests(server, before)
        day = [(END + timedelta(days=i)).isoformat() for i in (-1, 0, 1)]
        spans = {(q["date_from"], q["date_to"], q["per_page"]) for q in asked
                 if "search" not in q and "status" not in q}
        assert (day[0], day[2], "1") in spans, asked
        assert {q["date_to"] for q in asked if "search" not in q} <= set(day[1:]), asked
        heads = [q for q in asked if "status" not in q and "search" not in q
                 and q["per_page"] == "100"]
        assert [q["date_from"] for q in heads] == [END.isoformat()], heads


@synced
def test_a_field_changed_without_its_status_waits_for_the_daily_reconciliation(org_a):
    """Calls inserted into yesterday are read by the next run (the count taken last, then
    the day's head, where they land); a field changed
    without its status, by the daily whole read; calls inserted while paging, by the counts
    taken last."""
    with served(_config()) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        yesterday = END - timedelta(days=1)
        # The day's oldest completed call: on no page but its day's last.
        victim = [c for c in sim.truth.calls(ENV, yesterday, yesterday)
                  if c["status"] == "completed"][-1]
        sim.tamper(ENV).calls[victim["id"]] = {"duration": victim["duration"] + 7}
        inserted = sim.insert_calls(ENV, 5, lo=yesterday.toordinal(), hi=yesterday.toordinal())
        sim.advance(timedelta(hours=3))
        sync_environment(env, now=sim.now)
        # Reconciled less than a day ago: its fields are not read again yet (the count
        # found its new calls).
        assert Call.objects.get(external_id=victim["id"]).duration == victim["duration"]
        assert Call.objects.filter(external_id__in=[r.id for r in inserted]).count() == 5

        sim.faults = "insert=20@2,only=/api/v1/calls"
        sim.advance(timedelta(hours=21))
        outcome = sync_environment(env, now=sim.now)
        assert Call.objects.get(external_id=victim["id"]).duration == victim["duration"] + 7
        assert any(str(yesterday) in line for line in outcome.runs[1].details["reconciled"])
        row = CallDayLedger.objects.get(environment=env, day=yesterday)
        assert row.agrees and row.reconciled_at == sim.now and row.checked_at >= sim.now
        sim.faults = None
        sim.untamper(ENV)
        assert [p for p in mirror_diff(env, sim) if victim["id"] not in p] == []


@synced
def test_calls_inserted_while_paging_cost_their_head_not_a_count_per_day(org_a):
    """The evidence taken last is one range count over the lookback and the day after our
    today. When it disagrees, the days' heads are read newest first, each head's total the
    day's count taken with that listing: calls the upstream inserted into today while the
    run paged cost today's head page, then one count of the days before, not yet counted
    since. No day is counted on its own, and no day that agreed is counted again."""
    with served(_config()) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        sim.advance(timedelta(minutes=15))
        sim.faults = "insert=20@1x1,only=/api/v1/calls"  # after today's first head page
        before = len(server.request_log)
        outcome = sync_environment(env, now=sim.now)
        sim.faults = None
        assert not outcome.failed and mirror_diff(env, sim) == []
        day = [(END + timedelta(days=i)).isoformat() for i in (-1, 0, 1)]
        counts = [(q["date_from"], q["date_to"]) for q in _calls_requests(server, before)
                  if q["per_page"] == "1"]
        assert counts == [(day[0], day[2]), (day[0], day[0])], outcome.runs[1].details
        rows = CallDayLedger.objects.filter(environment=env, day__in=[END - timedelta(days=1),
                                                                      END])
        assert len(rows) == 2 and all(r.agrees and r.checked_at for r in rows)


@synced
def test_after_midnight_the_evening_before_is_read_by_its_head_up_front(org_a):
    """The first run after midnight reads the new day whole first (never read whole yet),
    then the heads: from the day of the mirror's newest call when the run began, the
    evening before, whose calls are all at its head. Not from the mirror's newest call
    after that whole read: the evening's calls would then be left to the counts taken
    last, to be found by probing the days' heads, or, once the status and final listings
    had written the newest of them, by reading the day whole."""
    # The data set runs into the next day, whose first calls come after midnight.
    with served(small_config(days=3, calls_per_day=600, end_date=END + timedelta(days=1),
                             now=AFTERNOON)) as (sim, server):
        env = point_env(org_a, sim, server, backfill_days=2)
        sync_environment(env, now=sim.now)
        sim.advance(timedelta(hours=11, minutes=15))  # 02:15 the next day
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed
        assert mirror_diff(env, sim, first=END - timedelta(days=1)) == []
        details = outcome.runs[1].details
        # The range counted last agreed at once: no day was probed or re-read.
        assert "counted" not in details and "reread" not in details, details
        assert any(str(END + timedelta(days=1)) in line for line in details["reconciled"])
        assert not any(str(END) + ":" in line for line in details["reconciled"]), details


def test_the_counts_see_a_call_that_moved_on():
    # The mirror holds 3 answered calls; upstream only 2 are still answered.
    assert moved_on({"answered": 3}, {"answered": 2}) == "1 calls moved on from answered"
    assert not moved_on({"answered": 3}, {"answered": 3})
    # Ringing -> answered: the first status's count drops, the cumulative one does not.
    assert moved_on({"ringing": 1, "answered": 1}, {"ringing": 0, "answered": 2})
    # Initiated -> ringing and ringing -> completed at once: seen from the first status.
    assert moved_on({"initiated": 1, "ringing": 1}, {"ringing": 1}) == \
        "1 calls moved on from initiated"
    assert moved_on({"initiated": 1, "ringing": 1}, {"initiated": 1}) == \
        "1 calls moved on from ringing"
    # More upstream than mirrored (a call the mirror lacks) is no move.
    assert not moved_on({"answered": 1}, {"answered": 2})


def test_a_page_can_start_near_any_offset():
    assert covering(0) == (100, 1)
    assert covering(150) == (75, 3)  # 150..224 reaches further than 100..199
    assert covering(5037) == (95, 54)  # 5035..5129: 92 items past the offset, not 63
    for start in (1, 99, 101, 1234, 5037, 99_999):
        size, page = covering(start)
        assert 1 <= size <= 100 and (page - 1) * size <= start < page * size
        assert page * size >= (start // 100 + 1) * 100  # never worse than per_page=100


@synced
def test_backfill_days_sticks(org_a):
    with served(small_config(days=6, calls_per_day=60)) as (sim, server):
        env = point_env(org_a, sim, server, backfill_days=90)
        sync_environment(env, now=sim.now, backfill_days=3)
        env.refresh_from_db()
        assert env.backfill_days == 3
        before = len(server.request_log)
        sync_environment(env, now=sim.now)
        oldest = (END - timedelta(days=2)).isoformat()
        assert all(q["date_from"] >= oldest for q in _calls_requests(server, before))
        assert all(q.get("start_date", oldest) >= oldest
                   for q in (r.query for r in server.request_log[before:]))


def test_the_ledger_shows_on_the_sync_page_and_in_coverage(client, alice, env_a):
    from datetime import date

    from sync.coverage import DayState, calls_coverage
    from sync.models import StreamState
    from sync.stream_names import Stream
    from tests.support.factories import mark_read

    mark_read(env_a, date(2026, 3, 1), date(2026, 3, 9))
    client.force_login(alice)
    at = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    CallDayLedger.objects.create(environment=env_a, day=date(2026, 3, 5), mirrored=10,
                                 upstream=10, checked_at=at, reconciled_at=at)
    page = client.get(f"/o/{env_a.organization.slug}/sync/").content.decode()
    assert "Calls reconciled at" in page and "being re-read" not in page

    CallDayLedger.objects.create(environment=env_a, day=date(2026, 3, 6), mirrored=10,
                                 upstream=12, checked_at=at)
    state = StreamState.objects.get(environment=env_a, stream=Stream.CALLS)
    state.cursor = {**state.cursor, "disagree": ["2026-03-06"]}
    state.save()
    page = client.get(f"/o/{env_a.organization.slug}/sync/").content.decode()
    assert "being re-read: 2026-03-06" in page
    coverage = calls_coverage([env_a], date(2026, 3, 4), date(2026, 3, 8),
                              now=datetime(2026, 3, 20, tzinfo=UTC))
    # Local days (São Paulo, UTC-3) touching the UTC day 6 March: the 5th and the 6th.
    assert coverage.partial_days == [date(2026, 3, 5), date(2026, 3, 6)]
    assert coverage.state(date(2026, 3, 7)) is DayState.COVERED


def test_the_backfill_setting_is_on_the_settings_page(client, alice, org_a, upstream):
    from portal.models import Environment

    server, tokens = upstream
    client.force_login(alice)
    url = "/o/org-a/settings/environments/add/"
    fields = {"name": "Prod", "provider": "talkover", "base_url": server.base_url,
              "sync_interval_minutes": 15, "token": tokens["acme-sales"]}
    refused = client.post(url, {**fields, "backfill_days": 0})
    assert refused.status_code == 400 and "from 1 to 3650" in refused.content.decode()
    client.post(url, {**fields, "backfill_days": 7})
    assert Environment.objects.get(organization=org_a, name="Prod").backfill_days == 7
    listing = client.get("/o/org-a/settings/").content.decode()
    assert "Back-fill (days)" in listing and "<td>7</td>" in listing
