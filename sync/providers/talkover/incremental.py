"""Incremental Talkover calls: a run's requests follow the change, not the volume.

The contract (docs/operations.md, "The sync at work"): after every successful run the mirror
equals the upstream over the whole lookback, whatever the upstream's clock, the zone of its date
filters, its ingestion lag and whatever it inserts while we page. Our clock only says how often
a run comes; which days a run reads and whether a day agrees come from the upstream's answers.
Once a mirror exists, a run of the calls stream reads:

* **every lookback day** (`refreshed_days`: from `lookback` days before today to today,
  every run): the heads of the newest days (from the newest one the mirror holds a call
  of), each day's new calls at its head (`talkover.hot_window`), and every day's count
  taken last. No guessed settling horizon: an upstream whose days run behind ours (its
  clock, its zone, records written late) still adds to a day we would have called over,
  and the count shows it.
* **open calls of the whole lookback** — the mirror's calls in a non-final status
  (initiated, ringing, answered) of every day from `open_from` on, checked by one listing per
  status over that whole date range, and the calls that moved read where they now sit or by
  SID; one found nowhere makes its day read whole in the same run.
* **whole days** — days never read whole (a paused environment's gap, a killed run's day),
  days whose last count disagreed, and every day of the lookback once a day (the daily
  reconciliation, which catches what no count shows: a field that changed without its
  status, a final status that changed again). `plan` says when each day is next read whole.
* **the evidence** — last, the counts (`talkover.hot_days.settle_counts`): taken after the
  run's last listing of every day, compared with the mirror; a day agrees only on a count
  equal to what the mirror holds. One `per_page=1` count of the whole lookback (and the
  day after our today) when it agrees; otherwise the days' heads, newest first, each
  head's total its day's count.

Days older than the lookback are settled: not read again. Each count and each whole read is
written to the completeness ledger (`sync.write.ledger`) with when the count was taken.
Origins AI keeps its own strategy (one bare listing per agent, `providers/origins`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.models import Environment
from sync.models.ledger import CallDayLedger
from sync.providers.talkover.cursor import CallsCursor
from sync.write import ledger

RECONCILE_EVERY = timedelta(days=1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def refreshed_days(today: date, lookback: int) -> list[date]:
    """The days whose heads every run reads, oldest first: the whole lookback. Our clock
    names the lookback's days, never which of them is still moving."""
    return _days(today - timedelta(days=lookback), today)


def open_from(cursor: CallsCursor, today: date, lookback: int) -> date:
    """The first day whose open calls a run checks: the lookback's, or the mirror's oldest."""
    return max(cursor.oldest, today - timedelta(days=lookback))


def candidate_days(today: date, lookback: int) -> list[date]:
    """The days a reconciliation may read: the lookback."""
    return ledger.lookback(today, lookback)


def reconcile_at(row: CallDayLedger | None, day: date) -> datetime | None:
    """When a lookback day is next read whole: a day after its last whole read; None: at
    once (never read whole). No "settled" moment of our clock: only the upstream's counts say
    a day stopped moving, and the daily whole read catches what they cannot show. A day whose
    last count disagreed is counted again by the next run, which reads its head and, when
    that is not enough, the day whole (`hot_days.settle_counts`): calls that arrived after a
    busy day's last count cost a head page, not the day."""
    if row is None or row.reconciled_at is None:
        return None
    return row.reconciled_at + RECONCILE_EVERY


def reconcile_due(row: CallDayLedger | None, day: date, now: datetime) -> bool:
    due = reconcile_at(row, day)
    return due is None or now >= due


@dataclass(frozen=True)
class DayPlan:
    """Until when a mirrored day may still change: its statuses at every run, its other
    fields at its next whole read (`next_at`; None: the next run), unless it leaves the
    lookback first (`final`: not read again)."""

    day: date
    reconciled_at: datetime | None
    next_at: datetime | None
    leaves_at: datetime
    final: bool


def plan(rows: dict[date, CallDayLedger], today: date, lookback: int, now: datetime
         ) -> list[DayPlan]:
    """The lookback's mirrored days, newest first, with their next reconciliation."""
    out = []
    for day in reversed(candidate_days(today, lookback)):
        row = rows.get(day)
        if row is None:
            continue
        leaves_at = ledger.day_bounds(day + timedelta(days=lookback))[1]
        due = reconcile_at(row, day)
        out.append(DayPlan(day, row.reconciled_at, due if due and due > now else None,
                           leaves_at, due is not None and due >= leaves_at))
    return out


def whole_days(cursor: CallsCursor, rows: dict[date, CallDayLedger], now: datetime,
               lookback: int) -> list[date]:
    """Days to read whole this run, oldest first, before the heads: a day a stopped run was
    reading (it resumes where that run stopped), a day never checked after the last one
    read whole (a gap; a back-fill deferred before it reached today: the head refresh would
    read such a day from its head on every continuation, and a budget window smaller than
    the day would never see it end), and a checked day whose last count disagreed or whose
    daily reconciliation is due. Gaps only in order: a day read whole moves coverage's mark
    (`read_through`) past the days before it."""
    oldest = cursor.oldest
    synced = cursor.synced_through or oldest - timedelta(days=1)
    first = max(oldest, min(synced + timedelta(days=1), now.date() - timedelta(days=lookback)))
    stopped = cursor.stopped_day
    reach, out = synced, []
    for d in _days(first, now.date()):
        in_order = d == reach + timedelta(days=1)
        row = rows.get(d)
        wanted = in_order if row is None else reconcile_due(row, d, now)
        if d == stopped or wanted:
            out.append(d)
            reach = d if in_order else reach
    return out


def reconciliation_plan(env: Environment, now: datetime) -> list[DayPlan]:
    """The environment's lookback days with their last and next whole read (the sync page;
    the ledger is the calls stream's)."""
    days = candidate_days(now.date(), env.lookback_days)
    return plan(ledger.rows(env, days), now.date(), env.lookback_days, now)
