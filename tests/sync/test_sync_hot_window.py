"""The hot days' refresh: after each incremental run the mirror
equals the simulator's ground truth, at about the requests the change needs — busy
afternoons with calls that moved to a final status, a status that changes hours later,
the two hot days just after midnight, and faults while it reads."""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from sync.engine import sync_environment
from sync.models import Call
from sync.simulator import Lateness
from tests.support.sync_support import END, ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)


def _truth(sim) -> dict[str, dict]:
    return {c["id"]: c for c in sim.truth.calls(ENV, sim.start_date, sim.today)}


def _calls_run(outcome):
    assert not outcome.failed, [r.error for r in outcome.runs]
    return next(r for r in outcome.runs if r.stream == "calls")


def test_a_busy_afternoon_costs_about_what_changed_and_the_mirror_is_exact(org_a):
    at = datetime(END.year, END.month, END.day, 15, 0, tzinfo=UTC)
    with served(small_config(days=1, calls_per_day=12_000, now=at)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        before = _truth(sim)
        sim.advance(timedelta(minutes=5))
        after = _truth(sim)
        changed = sum(1 for i, c in after.items() if before.get(i) != c)
        run = _calls_run(sync_environment(env, now=sim.now))
        assert mirror_diff(env, sim) == []
        # Calls that ended since the last run sat one or a few per page behind the new ones:
        # they were read from the final statuses' listings (or by SID), not page by page.
        summary = run.details["hot"][0]
        assert "by completed" in summary, summary
        # Twice the pages the change fills, plus the three status listings, one page and the
        # count taken last.
        ideal = max(1, math.ceil(changed / 100))
        assert run.requests <= 2 * ideal + 5, (run.requests, ideal, summary)


def test_a_status_that_changes_hours_later_is_caught_by_the_next_run(org_a, settings):
    """Today's call and yesterday's, both still answered hours on, are mirrored final by the
    first run after they end: yesterday was reconciled less than a day ago and only its head
    is read, yet the open-call counts over the lookback see its call move."""
    morning = datetime(END.year, END.month, END.day, 10, 0, tzinfo=UTC)
    with served(small_config(days=2, calls_per_day=2000, now=morning)) as (sim, server):
        today = [c for c in sim.truth.calls(ENV, END, END)
                 if c["status"] == "completed" and c["created_at"] < "2026-03-10T08:30"]
        day_before = END - timedelta(days=1)
        yesterday = next(c for c in sim.truth.calls(ENV, day_before, day_before)
                         if c["status"] == "completed" and c["created_at"] > "2026-03-09T20")
        sim.end_late(ENV, today[0]["id"], morning + timedelta(hours=3))
        sim.end_late(ENV, yesterday["id"], morning + timedelta(hours=3))
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        assert Call.objects.get(external_id=today[0]["id"]).status == "answered"
        assert Call.objects.get(external_id=yesterday["id"]).status == "answered"

        sim.advance(timedelta(hours=3, minutes=15))
        since = len(server.request_log)
        run = _calls_run(sync_environment(env, now=sim.now))
        for call in (today[0], yesterday):
            mirrored = Call.objects.get(external_id=call["id"])
            # Final, with the talk time it really had (not the hours it waited).
            assert (mirrored.status, mirrored.duration) == ("completed", call["duration"])
        assert mirror_diff(env, sim) == []
        assert not run.details.get("reconciled"), run.details
        # Yesterday was not read whole (its head only): its open calls were counted, the
        # mover read alone.
        whole = [q.query for q in server.request_log[since:] if q.path.endswith("/calls")
                 and q.query["date_from"] == str(day_before) and "status" not in q.query
                 and "search" not in q.query and q.query["page"] != "1"]
        assert whole == []


def test_a_mover_the_pages_already_show_is_read_before_any_deeper_page(org_a):
    """A call ringing since 02:00 ends at 15:10. The ringing listing is read to its end at
    once and lacks it: it has moved on, and a search by its SID reads it. The counts then
    agree with the answered listing's first page: no second one is read for it (it
    was before: 21 -> 20 requests at 20,000 calls a day). A tenth of the calls stay open
    for days, so the answered listing runs to a second page."""
    at = datetime(END.year, END.month, END.day, 15, 0, tzinfo=UTC)
    config = small_config(days=1, calls_per_day=4000, now=at,
                          lateness=Lateness(((0.1, 72.0, 120.0),)))
    with served(config) as (sim, server):
        late = next(c for c in sim.truth.calls(ENV, END, END) if c["status"] == "no-answer"
                    and "2026-03-10T01:00" < c["created_at"] < "2026-03-10T03:00")
        sim.end_late(ENV, late["id"], at + timedelta(minutes=10))
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        assert Call.objects.get(external_id=late["id"]).status == "ringing"
        sim.advance(timedelta(minutes=15))
        since = len(server.request_log)
        run = _calls_run(sync_environment(env, now=sim.now))
        assert Call.objects.get(external_id=late["id"]).status == "no-answer"
        assert mirror_diff(env, sim) == []
        asked = [q.query for q in server.request_log[since:] if q.path.endswith("/calls")]
        answered = [q for q in asked if q.get("status") == "answered"]
        assert len(answered) == 1, asked
        assert sum(1 for q in asked if q.get("search") == late["sid"]) == 1, asked
        assert "3 status" in run.details["hot"][0], run.details
        assert run.details["hot_requests"] == len(asked), "the refresh's own count"


def _yesterdays_late_call(org, created_before: str) -> tuple[list[dict[str, str]], str]:
    """A fifth of the calls stay open for days (answered or ringing); yesterday's completed
    call created before `created_before` ends late, at 15:10. The run 15 minutes later:
    its status-filtered listing requests, and its `hot` summary. The mirror is exact."""
    at = datetime(END.year, END.month, END.day, 15, 0, tzinfo=UTC)
    config = small_config(days=2, calls_per_day=6000, now=at,
                          lateness=Lateness(((0.2, 72.0, 120.0),)))
    with served(config) as (sim, server):
        day_before = END - timedelta(days=1)
        late = next(c for c in sim.truth.calls(ENV, day_before, day_before)
                    if c["status"] == "completed" and c["created_at"] < created_before)
        sim.end_late(ENV, late["id"], at + timedelta(minutes=10))
        env = point_env(org, sim, server)
        sync_environment(env, now=sim.now)
        sim.advance(timedelta(minutes=15))
        since = len(server.request_log)
        run = _calls_run(sync_environment(env, now=sim.now))
        assert Call.objects.get(external_id=late["id"]).status == "completed"
        assert mirror_diff(env, sim) == []
        asked = [q.query for q in server.request_log[since:] if q.path.endswith("/calls")
                 and "status" in q.query]
        return asked, run.details["hot"][0]


def test_the_older_days_counts_skip_the_rest_of_today_for_yesterdays_mover(org_a):
    """A fifth of the calls stay open for days: today's open calls fill pages. Yesterday's
    call ends late, at 15:10. Once today's pages hold no mover, the counts of the older day
    (per_page=1, one a status) show it is yesterday's: the listings go on over yesterday
    alone, from its first call, and the rest of today's open calls are not read (the
    listings read through them before, 11 status pages against 6 and 2
    counts)."""
    asked, hot = _yesterdays_late_call(org_a, "2026-03-09T20:00")
    day_before = END - timedelta(days=1)
    counts = [q for q in asked if q["per_page"] == "1"]
    assert counts and all(q["date_to"] == str(day_before) for q in counts), asked
    # Today's open answered calls past the first page were not read.
    assert sum(1 for q in asked if q["status"] == "answered"
               and q["date_to"] == str(END)) == 1, asked
    assert len(asked) <= 8, (len(asked), hot)


def test_just_after_midnight_every_lookback_day_is_refreshed_in_a_handful(org_a):
    at = datetime(END.year, END.month, END.day, 23, 50, tzinfo=UTC)
    with served(small_config(days=2, calls_per_day=3000, now=at)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        sim.advance(timedelta(minutes=20))  # 00:10: a new day, read with the lookback's
        run = _calls_run(sync_environment(env, now=sim.now))
        assert mirror_diff(env, sim) == []
        assert run.details["hot"][0].startswith(
            f"{END - timedelta(days=1)}..{END + timedelta(days=1)}")
        before = server.request_count
        again = sync_environment(env, now=sim.now)
        # Agents 2, callback days 3, heads 3, status listings 3, the count taken last.
        assert not again.failed and server.request_count - before <= 12, \
            server.request_log[before - server.request_count:]


def test_faults_while_refreshing_leave_the_mirror_exact(org_a):
    at = datetime(END.year, END.month, END.day, 15, 0, tzinfo=UTC)
    with served(small_config(days=1, calls_per_day=6000, now=at)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        sim.faults = "500=0.15,429=0.1:1,insert=7@2,only=/api/v1/calls,seed=2"
        sim.advance(timedelta(minutes=10))
        since = len(server.request_log)
        _calls_run(sync_environment(env, now=sim.now))
        assert {500, 429} <= {q.status for q in server.request_log[since:]}
        assert sim.truth.inserted_count(ENV) >= 7
        # The counts were taken after the run's last listing of each day: the calls inserted
        # while it paged were counted, then read. Nothing differs.
        assert mirror_diff(env, sim) == []
        sim.faults = None
        run = _calls_run(sync_environment(env, now=sim.now))
        assert mirror_diff(env, sim) == []
        assert run.created == 0 and run.requests <= 5


def test_an_older_days_listing_whose_counts_agree_is_not_read(org_a):
    """Yesterday's answered call, created before noon, ends late, at 15:10; a fifth of the
    calls stay open for days, answered or ringing. The listings' totals over the lookback
    show no call left or joined initiated or ringing there (the upstream holds as many
    initiated, and initiated or ringing, calls as the mirror): those listings, whose pages
    could show no mover, are not read past their first page, and yesterday's count of them
    is the mirror's. Only the answered listing is read, over yesterday down to the mover
    (before: yesterday's ringing listing too, 3 pages and its count: 17 status-filtered
    requests, now 13)."""
    asked, hot = _yesterdays_late_call(org_a, "2026-03-09T12:00")
    older = [q for q in asked if q["date_to"] == str(END - timedelta(days=1))]
    assert older and all(q["status"] == "answered" for q in older), asked
    assert len(asked) <= 13, (len(asked), hot)
