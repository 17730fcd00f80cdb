"""Incremental Talkover calls: a run's requests follow the change, not the volume.

Once a mirror exists, a run of the calls stream reads three kinds of days:

* **hot days** — the UTC days overlapping the settling horizon (`SETTLING_HORIZON`, 2 h
  before now: the longest Talkover call the simulator makes takes an hour, and late events
  land within minutes). Each is read newest-first from page 1, stopping at the first page
  holding nothing new or changed. Then the cheap check: the day's `pagination.total` (from
  the pages just read) against the mirror's count, and one `per_page=1` count per non-final
  status (`status=initiated|ringing|answered`) the mirror still holds that day. A call only
  moves forward through those statuses, so the mirror holding more calls in the first k
  non-final statuses than the upstream counts means some mirrored call moved on: those
  pages are read where the mirror's still-open calls sit, until the counts agree. Calls
  missing (the total disagrees), or counts that still disagree, make the day re-read whole.
* **whole days** — days never read whole (a paused environment's gap, a killed run's day),
  and every day of the lookback once it has settled (its end + the horizon) and then again
  once a day: the daily reconciliation, which catches what no count shows (a call older
  than the horizon that changed, a field that changed without its status).
* **settled days** — the rest: not read.

Each check and each whole read is written to the completeness ledger (`sync.ledger`).
Origins AI keeps its own strategy (one bare listing per agent, `providers/origins`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sync import ledger
from sync.ledger_models import CallDayLedger
from sync.models import Call
from sync.providers.talkover.client import PER_PAGE, Page

SETTLING_HORIZON = timedelta(hours=2)
RECONCILE_EVERY = timedelta(days=1)
# Talkover's non-final statuses, in the order a call moves through them.
NON_FINAL = ("initiated", "ringing", "answered")

# write(day, items) -> ids written; done in one transaction with the stream's cursor.
Writer = Callable[[date, list[Any]], "Written"]


@dataclass
class Written:
    """What writing one page did: calls created or updated, and the ids it held."""

    changed: int
    ids: set[str] = field(default_factory=set)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def hot_days(now: datetime) -> list[date]:
    """UTC days overlapping [now - horizon, now], oldest first."""
    return _days((now - SETTLING_HORIZON).date(), now.date())


def candidate_days(today: date, lookback: int) -> list[date]:
    """The days a reconciliation may read: the lookback and the hot days."""
    return _days(today - timedelta(days=lookback), today)


def reconcile_due(row: CallDayLedger | None, day: date, now: datetime) -> bool:
    """A lookback day is read whole once settled, again once a day, and whenever its last
    check found calls the mirror lacks."""
    if row is None or row.reconciled_at is None or not row.agrees:
        return True
    settled_at = ledger.day_bounds(day)[1] + SETTLING_HORIZON
    return row.reconciled_at < settled_at or now - row.reconciled_at >= RECONCILE_EVERY


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


def disagreement(mirror: dict[str, int], rejected: int, total: int,
                 upstream: dict[str, int]) -> str:
    """Why the mirror's day differs from the upstream's counts ("" when it does not)."""
    have = sum(mirror.values()) + rejected
    if have < total:
        return f"{total - have} calls missing"
    held = counted = 0
    for status in NON_FINAL:
        if status not in upstream:
            continue
        held, counted = held + mirror.get(status, 0), counted + upstream[status]
        if held > counted:
            return f"{held - counted} calls moved on from {status}"
    return ""


def statuses_to_count(mirror: dict[str, int]) -> list[str]:
    """The non-final statuses from the first to the last one the mirror holds."""
    present = [i for i, s in enumerate(NON_FINAL) if mirror.get(s)]
    return list(NON_FINAL[present[0]:present[-1] + 1]) if present else []


@dataclass
class HotDay:
    """One hot day's refresh: the head read, the cheap check, targeted pages."""

    ctx: Any
    day: date
    write: Writer
    seen: set[str] = field(default_factory=set)
    read: set[int] = field(default_factory=set)
    changed: int = 0
    total: int = 0
    last_page: int = 1

    def _page(self, number: int) -> Page:
        page = self.ctx.client.calls_page(self.day, number)
        written = self.write(self.day, page.items)
        self.read.add(number)
        self.seen |= written.ids
        self.changed += written.changed
        self.total, self.last_page = page.total, page.last_page
        if not page.items:  # past the end: the listing shrank, no later page holds calls
            self.last_page = min(self.last_page, number)
        return page

    def head(self) -> None:
        """Pages from 1 on, to the first page holding nothing new or changed."""
        number = 1
        while True:
            before = self.changed
            self._page(number)
            if self.changed == before or number >= self.last_page:
                return
            number += 1

    @property
    def whole(self) -> bool:
        return all(n in self.read for n in range(1, self.last_page + 1))

    def check(self) -> tuple[str, dict[str, int] | None]:
        """The cheap check: (why the day disagrees or "", the upstream's status counts;
        None when calls are missing, which no targeted page can find)."""
        env = self.ctx.environment
        mirror = ledger.status_counts(env, self.day)
        rejected = ledger.rejected_count(env, self.day)
        missing = disagreement(mirror, rejected, self.total, {})
        if missing:
            return missing, None
        upstream = {s: self.ctx.client.calls_page(self.day, 1, status=s, per_page=1).total
                    for s in statuses_to_count(mirror)}
        return disagreement(mirror, rejected, self.total, upstream), upstream

    def targeted(self, upstream: dict[str, int]) -> str:
        """Read the pages where the mirror's open calls (non-final, not seen this run) sit,
        newest first, until the counts agree; returns the disagreement left ("" = none)."""
        env = self.ctx.environment
        start, end = ledger.day_bounds(self.day)
        keys = list(Call.objects.filter(environment=env, started_at__gte=start,
                                        started_at__lt=end)
                    .order_by("-started_at", "-external_id")
                    .values_list("external_id", "status"))
        rejected = ledger.rejected_count(env, self.day)
        left = "unchecked"
        for position, (external_id, status) in enumerate(keys):
            if status not in NON_FINAL or external_id in self.seen:
                continue
            number = position // PER_PAGE + 1
            # Calls that arrived since push it down: the page after is the other place.
            for candidate in (number, number + 1):
                if candidate in self.read or candidate > self.last_page:
                    continue
                self._page(candidate)
                if external_id in self.seen:
                    break
            left = disagreement(ledger.status_counts(env, self.day), rejected, self.total,
                                upstream)
            if not left:
                return ""
        return left

