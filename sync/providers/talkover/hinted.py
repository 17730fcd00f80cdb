"""A webhook round: the calls deliveries named, read through the API, and the lookback's heads.

The hot-day refresh (`talkover.hot_days`) finds the calls that moved by one status listing
per open status: three or more requests a run whatever changed. A round triggered by
webhooks knows better (`sync.webhooks.hints`): the calls that ended are named. So it reads

1. the heads of the lookback's days (page 1, and further pages only while they hold new calls):
   new calls, and every named call created since the last head, which is most of them;
2. the named calls the mirror holds open, where they now sit (`HotWindow.fetch`: a page of a
   final status's listing when two or more sit in it, else one search by SID);
3. a named call neither holds (an SID the body gave): one search by that SID over the hot
   days, at most `MAX_SEARCHES` a round; the rest wait for the next round, twice at most.

The body only chose what to read: every value written comes from the API. What a round does
not read (open calls nobody named, the lookback) stays the schedule's: the ledger and the
coverage mark are left as they were.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db.models import Q

from sync.models import Call
from sync.providers.talkover import incremental
from sync.providers.talkover.call_rows import AgentIndex
from sync.providers.talkover.cursor import CallsCursor
from sync.providers.talkover.hot_days import pay_rollups, write_day_part
from sync.providers.talkover.hot_window import (
    NON_FINAL,
    SEARCH_PER_PAGE,
    HotWindow,
    OpenCall,
    Written,
    item_key,
)
from sync.providers.talkover.streams import sync_calls
from sync.run_context import RunContext
from sync.search_text import sid_q
from sync.webhooks.hints import Hint
from sync.write import ledger

MAX_SEARCHES = 5
MAX_TRIES = 2


def sync_hinted_calls(ctx: RunContext, hints: list[Hint],
                      put_back: Callable[[Hint], None]) -> None:
    """One webhook round over the hot days for `hints`; unplaced hints go to `put_back`.
    Before the calls were ever read (no `oldest` day yet), the round is a plain calls run."""
    if not ctx.cursor().get("oldest"):
        sync_calls(ctx)
        return
    env = ctx.environment
    cursor = CallsCursor(ctx.cursor())
    days = [d for d in incremental.refreshed_days(ctx.now.date(), env.lookback_days)
            if d >= cursor.oldest]
    ahead = ctx.now.date() + timedelta(days=1)
    if ledger.held(env, ahead, cursor.day_shift):
        days.append(ahead)  # the upstream's days run ahead of ours: its today is our tomorrow
    agents = AgentIndex(ctx)
    dirty = cursor.dirty_days

    def write(items: list[Any]) -> Written:
        out = Written(0)
        for day, part in _by_day(items, days[-1]).items():
            write_day_part(ctx, agents, cursor, dirty, day, part, out)
        return out

    # The upstream's days as the schedule's runs learned them: a head compares its day's count
    # with what the mirror holds of that same day, not of the UTC day.
    window = HotWindow(ctx, days, write, cursor.unfound, shift=cursor.day_shift)
    window.heads()
    named = Call.objects.filter(environment=env).filter(
        Q(external_id__in=[h.id for h in hints if h.id]) |
        sid_q((h.sid for h in hints if h.sid and not h.id), [env.pk]))
    known = {i: (sid, at, status) for i, sid, at, status in
             named.values_list("external_id", "sid", "started_at", "status")}
    by_sid = {sid: i for i, (sid, _, _) in known.items() if sid}
    window.fetch(sorted((OpenCall(i, sid, at, status) for i, (sid, at, status) in known.items()
                         if status in NON_FINAL and i not in window.state
                         and window.start <= at < window.end),
                        key=lambda c: c.key, reverse=True))
    searched = 0
    for hint in hints:
        call_id = hint.id or by_sid.get(hint.sid, "")
        sid, at, status = known.get(call_id, (hint.sid, None, ""))
        if call_id in window.state or (status and status not in NON_FINAL):
            continue  # read this round, or final already: nothing left to read
        if sid and searched < MAX_SEARCHES:
            # Outside the hot days (a late status), or not placed where it should sit.
            searched += 1
            day = window.upstream_day(at) if at else None  # its day as the upstream dates it
            first, last = (day, day) if day else (days[0], days[-1])
            page = window.ctx.client.calls_listing(first, last, 1, SEARCH_PER_PAGE, search=sid)
            window.requests["search"] += 1
            written = write(page.items)
            if call_id in written.ids or any(
                    isinstance(i, dict) and i.get("sid") == sid for i in page.items):
                continue
        if hint.tries + 1 < MAX_TRIES:
            put_back(Hint(hint.id, hint.sid, hint.tries + 1))
        else:
            ctx.note("unplaced", hint.id or hint.sid)
    ctx.note("hinted", f"{len(hints)} calls named; {window.summary()}")
    with ctx.page_transaction():
        pay_rollups(ctx, cursor, dirty)
        ctx.save_cursor(cursor)


def _by_day(items: list[Any], fallback: date) -> dict[date, list[Any]]:
    """Items by the UTC day they were created (a listing over two hot days mixes them)."""
    groups: dict[date, list[Any]] = {}
    for item in items:
        keyed = item_key(item)
        groups.setdefault(keyed[0][0].date() if keyed else fallback, []).append(item)
    return groups
