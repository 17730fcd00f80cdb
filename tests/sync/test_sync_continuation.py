"""A sync continued window after window on a tight request budget: every window moves it on.

A run that spends the token's budget is deferred and continued (`sync/tasks.py`); the
continuation starts from the cursor the run saved. A day with more pages than a budget window
allows must resume where the stopped read was, not start again at page 1, and a lookback
day that the back-fill had not reached yet is read whole from there too, not rediscovered
from its head each time: otherwise the continuation spends every window on the same pages
and never ends.
"""
from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from sync.budget import CONTINUATION_TICKETS, RequestBudget
from sync.engine import sync_environment
from sync.models import SyncRun
from sync.models.ledger import CallDayLedger
from sync.providers.talkover import incremental
from sync.providers.talkover.cursor import CallsCursor
from tests.support.sync_support import mirror_diff, point_env, served, small_config

sync_db = pytest.mark.django_db(transaction=True)

# A run's refresh of the lookback (three days' heads, three status listings, the count
# taken last) is not resumable: it needs one budget window of at least that many requests.
# A window of 2 s: a loaded machine's requests must not refill it while a run reads.
LIMIT, WINDOW = 8, 2.0


@sync_db
def test_a_back_fill_continued_on_a_small_budget_ends_exact_just_after_midnight(org_a, settings):
    settings.SYNC_BUDGET_WINDOW = WINDOW
    with served(small_config(days=3, calls_per_day=500)) as (sim, server):
        sim.advance(timedelta(minutes=50))  # 00:50 the next day
        env = point_env(org_a, sim, server, requests_per_minute=LIMIT, backfill_days=4)
        pages = sum(-(-len(list(sim.truth.calls("acme-sales", d, d))) // 100)
                    for d in (sim.today - timedelta(days=i) for i in range(4)))
        streams, runs = None, 0
        while True:
            outcome = sync_environment(env, now=sim.now, budget_wait=WINDOW / 12, streams=streams)
            runs += not outcome.skipped
            if outcome.deferred is None and not outcome.skipped:
                break
            # Each continuation: every window a bit further on, new calls at today's head.
            assert runs <= pages, "the continuations do not move the sync on"
            sim.advance(timedelta(seconds=20))
            streams = outcome.deferred_streams
            time.sleep(max(0.01, outcome.deferred or 0))
        assert runs >= 4, "the budget deferred the back-fill several times"
        assert mirror_diff(env, sim) == []
        calls = list(SyncRun.objects.filter(environment=env, stream="calls")
                     .values_list("requests", flat=True))
        # Each day's pages about once (a resumed read re-reads no page), plus each run's
        # refresh of what is already mirrored: the back-fill is newest first, so from the
        # second run on today is kept fresh (the lookback's heads, status listings and count:
        # at most 7) before older days go on.
        assert sum(calls) <= pages + 7 * len(calls), (calls, pages)


D = date(2026, 3, 11)
AT_0100 = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)


def _checked(day: date, *, whole: bool) -> CallDayLedger:
    at = AT_0100 - timedelta(minutes=15)
    return CallDayLedger(day=day, mirrored=10, upstream=10, checked_at=at,
                         reconciled_at=at if whole else None)


def test_lookback_days_are_read_whole_in_order_after_the_days_read_whole():
    """Every run reads every lookback day's head. A back-fill deferred before the newest
    days reads them whole, in order; a day checked but never read whole is read whole (in
    order: coverage's mark would pass an unread day otherwise); a day read whole is not read
    again before its daily reconciliation; a stopped day resumes wherever it is."""
    cursor = CallsCursor({"oldest": "2026-03-08", "synced_through": "2026-03-09"})
    assert incremental.refreshed_days(D, 2) == [D - timedelta(days=2), D - timedelta(days=1), D]
    deferred = {d: _checked(d, whole=True) for d in (date(2026, 3, 8), date(2026, 3, 9))}
    assert incremental.whole_days(cursor, deferred, AT_0100, 3) == [D - timedelta(days=1), D]
    checked = {**deferred, D - timedelta(days=1): _checked(D - timedelta(days=1), whole=False)}
    assert incremental.whole_days(cursor, checked, AT_0100, 3) == [D - timedelta(days=1), D]
    steady = {**deferred, D - timedelta(days=1): _checked(D - timedelta(days=1), whole=True)}
    assert incremental.whole_days(cursor, steady, AT_0100, 3) == []
    cursor.stop_at(D, 4)
    assert incremental.whole_days(cursor, steady, AT_0100, 3) == [D]
    assert cursor.resume_page(D) == 5 and cursor.resume_page(D - timedelta(days=1)) == 1


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.django_db  # the cache (budget tickets) is cleared around database tests
def test_a_deferred_run_continues_once_the_window_has_room_for_a_continuation():
    clock = _Clock(3_000_000.05)  # the middle of a bucket
    # 12-second window: buckets of 0.1 s (a 120th); a ticket's bucket leaves the window
    # and its margin bucket 122 buckets (12.2 s) after it began.
    budget = RequestBudget("talq_continuecontinuecontinue0001", limit=4, window=12,
                           clock=clock, max_wait=0)
    budget.acquire(), budget.acquire()
    clock.now += 6
    budget.acquire(), budget.acquire()
    assert budget.room_in() == pytest.approx(6.15), "one ticket: when the first two leave"
    assert budget.room_in(need=3) == pytest.approx(12.15)
    assert budget.continue_in() == pytest.approx(12.15), \
        "a budget smaller than a continuation needs: all four, when the last two leave"
    clock.now += 14
    assert budget.continue_in() == 0 and budget.room_in() == 0


@pytest.mark.django_db
def test_a_continuation_starts_when_a_runs_first_tickets_leave_not_its_last():
    """A run takes its tickets in a burst; they leave the window in the order taken, so the
    continuation starts once enough for it have left, not a window after the run's last."""
    clock = _Clock(3_000_000.05)
    budget = RequestBudget("talq_continuecontinuecontinue0002", limit=2 * CONTINUATION_TICKETS,
                           window=12, clock=clock, max_wait=0)
    for _ in range(CONTINUATION_TICKETS):
        budget.acquire()
    clock.now += 6
    for _ in range(CONTINUATION_TICKETS):
        budget.acquire()
    assert budget.room_in(need=budget.limit) == pytest.approx(12.15), "the whole window"
    assert budget.continue_in() == pytest.approx(6.15), "when the first burst has left"


@pytest.mark.django_db
def test_a_continuation_starts_before_the_room_and_takes_the_first_free_tickets():
    """A continuation's own start takes a moment: begun at the room, it let the window's
    first free tickets go by, and every cycle was a window and that moment. It starts nine
    tenths of its `max_wait` before the room and waits for them inside the budget, never
    re-queued."""
    clock = _Clock(3_000_000.05)

    def sleep(seconds: float) -> None:
        clock.now += seconds

    def budget() -> RequestBudget:
        return RequestBudget("talq_continuecontinuecontinue0003",
                             limit=2 * CONTINUATION_TICKETS, window=12, clock=clock,
                             sleep=sleep, max_wait=2)

    run = budget()
    for _ in range(CONTINUATION_TICKETS):
        run.acquire()
    clock.now += 6
    for _ in range(CONTINUATION_TICKETS):
        run.acquire()
    room = run.room_in(need=CONTINUATION_TICKETS)
    assert room == pytest.approx(6.15), "the first burst leaves 12.2 s after it began"
    assert run.continue_in() == pytest.approx(room - 1.8), "0.9 of max_wait before it"
    assert run.continue_in(refused=20) == pytest.approx(18.2), "nor before the refusal's wait"
    clock.now += run.continue_in()
    continuation = budget()
    assert continuation.room_in() <= 2, "the start's check lets it run"
    for _ in range(CONTINUATION_TICKETS):
        continuation.acquire()  # never BudgetExhausted: each wait is within max_wait
    assert 3_000_012.2 <= clock.now < 3_000_012.2 + 0.1 + 0.05, \
        "its tickets were taken as the first burst's left the window"
