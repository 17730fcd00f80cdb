"""Incremental Talkover calls: a run's requests follow the change, not the volume.

The contract (DESIGN.md, Sync): after every successful run, every call of the lookback whose
status the upstream changed is mirrored with its new values, however late the change came.
Once a mirror exists, a run of the calls stream reads:

* **hot days** — the UTC days overlapping the settling horizon (`SETTLING_HORIZON`, 2 h
  before now), where new calls land: each day's new calls at its head
  (`talkover.hot_window`).
* **open calls of the whole lookback** — the mirror's calls in a non-final status
  (initiated, ringing, answered) of every day from `open_from` on, checked by one listing per
  status over that whole date range (counts that say when none moved: the same requests as
  for the hot days alone), and the calls that moved read where they now sit or by SID; one
  found nowhere makes its day read whole in the same run. No guessed horizon decides
  whether a late status is seen.
* **whole days** — days never read whole (a paused environment's gap, a killed run's day),
  and every day of the lookback once it has settled (its end + the horizon) and then again
  once a day: the daily reconciliation, which catches what no count shows (a field that
  changed without its status, a final status that changed again). The horizon only decides
  how often a day is read whole; `plan` says until when each day may still change.
* **settled days** — the rest: not read.

Each check and each whole read is written to the completeness ledger (`sync.write.ledger`).
Origins AI keeps its own strategy (one bare listing per agent, `providers/origins`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.models import Environment
from sync.models.ledger import CallDayLedger
from sync.providers.talkover.cursor import CallsCursor
from sync.write import ledger

SETTLING_HORIZON = timedelta(hours=2)
RECONCILE_EVERY = timedelta(days=1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def hot_days(now: datetime) -> list[date]:
    """UTC days overlapping [now - horizon, now], oldest first."""
    return _days((now - SETTLING_HORIZON).date(), now.date())


def open_from(cursor: CallsCursor, today: date, lookback: int) -> date:
    """The first day whose open calls a run checks: the lookback's, or the mirror's oldest."""
    return max(cursor.oldest, today - timedelta(days=lookback))


def candidate_days(today: date, lookback: int) -> list[date]:
    """The days a reconciliation may read: the lookback and the hot days."""
    return _days(today - timedelta(days=lookback), today)


def reconcile_at(row: CallDayLedger | None, day: date) -> datetime | None:
    """When a lookback day is next read whole: once settled (its end + the horizon), then
    once a day; None: at once (never read whole, or its last check found calls missing)."""
    if row is None or row.reconciled_at is None or not row.agrees:
        return None
    settled_at = ledger.day_bounds(day)[1] + SETTLING_HORIZON
    if row.reconciled_at < settled_at:
        return settled_at
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
    """Days to read whole this run, oldest first: before the hot ones, the gaps and the due
    reconciliations; among the hot ones, a day a stopped run was reading (it resumes where
    that run stopped) and a day never checked that follows the days read whole in order (a
    back-fill deferred before it reached the hot days): the hot refresh would read such a day
    from its head on every continuation, and a budget window smaller than the day would never
    see it end. Only in order: a day read whole moves coverage's mark (`read_through`) past
    the days before it."""
    oldest = cursor.oldest
    synced = cursor.synced_through or oldest - timedelta(days=1)
    hot_first = hot_days(now)[0]
    first = max(oldest, min(synced + timedelta(days=1), now.date() - timedelta(days=lookback)))
    stopped = cursor.stopped_day
    reach, out = synced, []
    for d in _days(first, now.date()):
        in_order = d == reach + timedelta(days=1)
        if d < hot_first:
            wanted = d > synced or reconcile_due(rows.get(d), d, now)
        else:
            wanted = in_order and d not in rows
        if d == stopped or wanted:
            out.append(d)
            reach = d if in_order else reach
    return out


def reconciliation_plan(env: Environment, now: datetime) -> list[DayPlan]:
    """The environment's lookback days with their last and next whole read (the sync page;
    the ledger is the calls stream's)."""
    days = candidate_days(now.date(), env.lookback_days)
    return plan(ledger.rows(env, days), now.date(), env.lookback_days, now)
