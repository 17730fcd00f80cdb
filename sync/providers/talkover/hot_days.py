"""The calls stream's hot days (and the lookback's open calls): written as `HotWindow` reads
them, checked, then recorded.

Every page the refresh reads is written at once, each call under the UTC day it was created
(a listing over two hot days mixes them). A day whose calls changed is marked dirty in the
cursor in the same transaction, so a killed run's rollups are refreshed by the next one. At
the end each hot day's count is checked against its head's `pagination.total`: calls that
arrived meanwhile are read from the head again; calls still missing, or an id twice in one
page, make the day read whole. The ledger, the rollups and the cursor follow in one
transaction. An open call that moved on but was found neither where it sits nor by its SID
makes its day read whole too, in the same run.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sync import quarantine
from sync.models import Call
from sync.providers.talkover.call_rows import AgentIndex, page_calls, store_calls
from sync.providers.talkover.cursor import CallsCursor
from sync.providers.talkover.hot_window import NON_FINAL, HotWindow, Written, item_key
from sync.run_context import RunContext
from sync.write import ledger
from sync.write.rollups import local_days_for_utc_day, refresh_rollups

# Calls a search found nowhere, kept in the cursor so later runs do not look for them again.
MAX_UNFOUND = 200


def _days_to_reread(window: HotWindow, days: list[date], duplicated: set[date]
                    ) -> dict[date, str]:
    """{day: why} for the days the refresh could not settle, so they are read whole now: a
    page that gave an id twice, calls still missing after re-reading the day's head, or
    calls that moved on and were found neither where they now sit nor by their SID (never
    left for a later reconciliation)."""
    reread: dict[date, str] = {}
    for day in days:
        if window.missing(day) and day not in duplicated:
            window.reread_head(day)
        left = window.missing(day)
        if day in duplicated:
            reread[day] = "the same id twice in one page"
        elif left:
            reread[day] = f"{left} calls missing"
    lost: dict[date, int] = {}
    for day in window.lost.values():
        lost[day] = lost.get(day, 0) + 1
    for day, n in sorted(lost.items()):
        reread.setdefault(day, f"{n} calls that moved on not found where they sit")
    return reread


def sync_hot_days(ctx: RunContext, days: list[date], agents: AgentIndex,
                  cursor: CallsCursor, reread_whole: Callable[[date], None],
                  open_first: date | None = None) -> None:
    """Refresh `days` (ascending) for what changed, and the open calls of every day from
    `open_first` (the lookback's first day) on; `reread_whole(day)` reads a day whole."""
    env = ctx.environment
    dirty = cursor.dirty_days
    duplicated: set[date] = set()

    def write(items: list[Any]) -> Written:
        groups: dict[date, list[Any]] = {}
        for item in items:
            keyed = item_key(item)
            groups.setdefault(keyed[0][0].date() if keyed else days[-1], []).append(item)
        out = Written(0)
        for day, part in groups.items():
            if write_day_part(ctx, agents, cursor, dirty, day, part, out):
                duplicated.add(day)
        return out

    window = HotWindow(ctx, days, write, cursor.unfound, open_first)
    window.refresh()
    reread = _days_to_reread(window, days, duplicated)
    ctx.note("hot", window.summary())
    for day, why in reread.items():
        ctx.note("reread", f"{day}: {why}; re-reading the day")
        reread_whole(day)
    with ctx.page_transaction():
        pay_rollups(ctx, cursor, dirty)
        cursor.hot_days_read(days[-1], ctx.now)
        for day in days:
            if day not in reread:
                cursor.note_ledger(ledger.record(
                    env, day, window.totals[day], ctx.now, whole=window.whole.get(day, False)))
        _keep_unfound(ctx, cursor, window)
        ctx.save_cursor(cursor)
    for day in days:
        if window.whole.get(day) and day not in reread:
            ctx.note("reconciled", f"{day}: {window.totals[day]} calls, read whole")


def pay_rollups(ctx: RunContext, cursor: CallsCursor, dirty: set[str]) -> None:
    """In the caller's transaction: refresh the rollups of the local days the `dirty` UTC
    days overlap, and clear the cursor's debt."""
    if dirty:
        tz = ctx.environment.organization.tzinfo
        local: set[date] = set()
        for day in dirty:
            local |= local_days_for_utc_day(date.fromisoformat(day), tz)
        refresh_rollups(ctx.environment, local)
        ctx.bump_data_version()
    cursor.rollups_paid()


def _keep_unfound(ctx: RunContext, cursor: CallsCursor, window: HotWindow) -> None:
    """The open calls that moved on and that even a whole read of their day did not find
    upstream (removed there): still open in the mirror's lookback, not looked for again."""
    ids = (list(window.unfound) + list(window.lost))[:MAX_UNFOUND * 2]
    kept = sorted(Call.objects.filter(
        environment=ctx.environment, external_id__in=ids,
        status__in=NON_FINAL, started_at__gte=window.open_start, started_at__lt=window.end,
    ).values_list("external_id", flat=True))[:MAX_UNFOUND]
    cursor.keep_unfound(kept)
    if kept:
        ctx.note("unfound", f"{len(kept)} open calls no longer listed upstream, not even "
                            f"by a whole read of their day")


def write_day_part(ctx: RunContext, agents: AgentIndex, cursor: CallsCursor, dirty: set[str],
                   day: date, part: list[Any], out: Written) -> bool:
    """Write one UTC day's share of a page, added to `out`; True when ids repeated in the
    page were dropped (the day is then read whole). A day whose calls changed is marked in
    `dirty` and the cursor in the same transaction: rows are written before the day's
    rollups, so a killed run leaves it marked for the next one."""
    calls, refused = page_calls(ctx, agents, part, day)
    with ctx.page_transaction():
        counts = store_calls(ctx, day, calls, refused)
        ids = [c["external_id"] for c in calls]
        # A record read in a storable shape leaves quarantine.
        quarantine.clear(ctx, day=day, upstream_id__in=ids)
        if counts.changed and day.isoformat() not in dirty:
            dirty.add(day.isoformat())
            cursor.owe_rollups(dirty)
            ctx.save_cursor(cursor)
        ctx.record(counts)
    out.changed += counts.changed
    out.created += counts.created
    out.ids.update(ids)
    return len(calls) + len(refused) < len(part)
