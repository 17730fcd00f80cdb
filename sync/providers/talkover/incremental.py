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
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sync.models.ledger import CallDayLedger
from sync.write import ledger

SETTLING_HORIZON = timedelta(hours=2)
RECONCILE_EVERY = timedelta(days=1)
# Disagreeing days kept in the cursor (the newest; the ledger has them all).
MAX_DISAGREE_SHOWN = 60


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def hot_days(now: datetime) -> list[date]:
    """UTC days overlapping [now - horizon, now], oldest first."""
    return _days((now - SETTLING_HORIZON).date(), now.date())


def open_from(cursor: dict[str, Any], today: date, lookback: int) -> date:
    """The first day whose open calls a run checks: the lookback's, or the mirror's oldest."""
    return max(date.fromisoformat(cursor["oldest"]), today - timedelta(days=lookback))


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


def whole_days(cursor: dict[str, Any], rows: dict[date, CallDayLedger], now: datetime,
               lookback: int) -> list[date]:
    """Days before the hot ones to read whole this run, oldest first."""
    oldest = date.fromisoformat(cursor["oldest"])
    synced = date.fromisoformat(cursor["synced_through"]) if cursor.get("synced_through") \
        else oldest - timedelta(days=1)
    hot_first = hot_days(now)[0]
    first = max(oldest, min(synced + timedelta(days=1), now.date() - timedelta(days=lookback)))
    stopped = cursor.get("in_progress")
    return [d for d in _days(first, hot_first - timedelta(days=1))
            if d > synced or d.isoformat() == stopped or reconcile_due(rows.get(d), d, now)]


def read_through(cursor: dict[str, Any], day: date, began: datetime) -> str:
    """The coverage high-water mark once `day` (UTC) is read in a run that `began`: calls
    that started before it, from `oldest` on, are all mirrored. It never moves back: a
    lookback re-read of older days (which sets `synced_through` back) leaves later days
    read."""
    day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    mark = min(day_end, began)
    known = cursor.get("read_through")
    if known and datetime.fromisoformat(known) > mark:
        return known
    return mark.isoformat()


def note_ledger(cursor: dict[str, Any], row: CallDayLedger) -> None:
    """Keep the ledger's disagreeing days in the cursor too, which coverage reads anyway
    (`sync.coverage.call_window`): no query of its own for every report."""
    days = set(cursor.get("disagree", []))
    days.discard(row.day.isoformat())
    if not row.agrees:
        days.add(row.day.isoformat())
    if days:
        cursor["disagree"] = sorted(days)[-MAX_DISAGREE_SHOWN:]
    else:
        cursor.pop("disagree", None)
