"""The calls stream's lookback days (their heads and open calls): written as `HotWindow`
reads them, then counted, then recorded.

Every page the refresh reads is written at once, each call under the UTC day it was created
(a listing over several days mixes them). A day whose calls changed is marked dirty in the
cursor in the same transaction, so a killed run's rollups are refreshed by the next one.
Calls still missing against a head's count, or an id twice in one page, or an open call
that moved on and was found neither where it sits nor by its SID, make the day read whole
in the same run.

Then the evidence (`settle_counts`), taken last: a count that comes before a listing of the
same day says nothing about what that listing let in (the upstream inserts while we page, in
any listing), so every day is counted after the run's last listing of it, and agrees only
when the count equals what the mirror holds. A mirror holding more than a count is no
proof of anything but a stale count: it is counted again. The ledger, the rollups and the
cursor follow in one transaction, each day with the count and when it was taken.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sync import quarantine
from sync.models import Call
from sync.providers.talkover.call_rows import AgentIndex, page_calls, store_calls
from sync.providers.talkover.cursor import CallsCursor
from sync.providers.talkover.hot_window import NON_FINAL, HotWindow, Written, item_key
from sync.run_context import RunContext
from sync.write import ledger
from sync.write.rollups import local_days_for_upstream_day, refresh_rollups

# Calls a search found nowhere, kept in the cursor so later runs do not look for them again.
MAX_UNFOUND = 200
# Rounds of counting, each after the reads the one before asked for. An upstream that keeps
# inserting faster than we count is bounded by nothing: a day still disagreeing after the
# last round is recorded so, and the next run reads it whole.
COUNT_ROUNDS = 4
# Where the upstream's days may begin relative to UTC's: the zones of the world, by quarter
# hours (UTC-12 ... UTC+14).
SHIFTS = [timedelta(minutes=15 * q) for q in range(-12 * 4, 14 * 4 + 1)]


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
                  open_first: date | None = None, newest: datetime | None = None) -> None:
    """Refresh `days` (ascending) for what changed, and the open calls of every day from
    `open_first` (the lookback's first day) on; `reread_whole(day)` reads a day whole;
    `newest`: the mirror's newest call when the run began (`HotWindow.head_days`)."""
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

    window = HotWindow(ctx, days, write, cursor.unfound, open_first, cursor.day_shift, newest)
    window.refresh()
    reread = _days_to_reread(window, days, duplicated)
    for day, why in reread.items():
        ctx.note("reread", f"{day}: {why}; re-reading the day")
        reread_whole(day)
    # The day after our today too: an upstream whose clock or zone runs ahead of ours dates
    # calls there, and only its count shows them (once it has, the day is refreshed too).
    ahead = ctx.now.date() + timedelta(days=1)
    counted = days if days[-1] >= ahead else [*days, ahead]
    # The mirror's days may not be the upstream's: a day the last counts found disagreeing,
    # or a head listing a call outside the day its filter names, asks for every day's count.
    doubted = {day.isoformat() for day in counted} & set(cursor.get("disagree", []))
    counts = settle_counts(ctx, window, counted, reread_whole,
                           verify=bool(doubted) or window.outside)
    cursor.learned_shift(window.shift)
    ctx.note("hot", window.summary())
    # What keeping the lookback fresh cost, apart from the run's other reading (a back-fill's
    # continuation refreshes before it goes on: `bench/backfill_pace.py` counts it apart).
    ctx.add("hot_requests", sum(window.requests.values()))
    with ctx.page_transaction():
        pay_rollups(ctx, cursor, dirty)
        cursor.hot_days_read(min(days[-1], ctx.now.date()), ctx.now)
        for day in counted:
            total, at = counts[day]
            if day not in days and not total:
                continue
            cursor.note_ledger(ledger.record(env, day, total, at, whole=bool(
                window.whole.get(day) and day not in reread), shift=window.shift))
        _keep_unfound(ctx, cursor, window)
        ctx.save_cursor(cursor)
    for day in days:
        if window.whole.get(day) and day not in reread:
            ctx.note("reconciled", f"{day}: {counts[day][0]} calls, read whole")


def settle_counts(ctx: RunContext, window: HotWindow, days: list[date],
                  reread_whole: Callable[[date], None], *, verify: bool = False
                  ) -> dict[date, tuple[int, datetime]]:
    """{day: (the upstream's count, when it was taken)}, every count taken after the run's
    last listing of its day.

    One `per_page=1` request counts the days still unsettled (at first all of them) as one
    range: the mirror only holds calls the upstream listed, so when the range's count equals
    what the mirror holds over it, every day's does (none can hold more than the upstream,
    so none holds less). Otherwise the days are probed newest first (`_probe`), each by its
    head, whose `pagination.total` is the day's count taken with that very listing: a day
    short of it has its new calls (and those inserted while we paged) read by the same
    pages, and is read whole when they are not enough. A day whose count equals what the
    mirror holds once its head is read is settled and not counted again; then the range's
    count less the probed days' is the older days' own, and when it equals what the mirror
    holds of them they are settled too, without a request. Then the unsettled days' range
    again, up to `COUNT_ROUNDS` times; in the last round each of them is counted on its own,
    for the ledger.

    The range's shortcut holds only when the mirror's days are the upstream's: under a
    wrong `window.shift` a day can hold more than its count and the next one less. So with
    `verify` (the caller's doubt: see `sync_hot_days`), or once a head lists a call outside
    its day or a day holds more than its count, every day is counted on its own
    (`_count_each_day`)."""
    counts: dict[date, tuple[int, datetime]] = {}
    pending = list(days)
    for round_no in range(1, COUNT_ROUNDS + 1):
        if verify or window.outside:
            return _count_each_day(ctx, window, days, reread_whole)
        total = window.count(pending[0], pending[-1])
        at = ctx.clock()
        held = {day: window.held(day) for day in pending}
        if total == sum(held.values()):
            return counts | {day: (held[day], at) for day in pending}
        ctx.note("counted", f"round {round_no}: {pending[0]}..{pending[-1]}: upstream {total}, "
                            f"mirrored {sum(held.values())}")
        if round_no == COUNT_ROUNDS:
            return counts | {day: (window.count(day, day), ctx.clock()) for day in pending}
        pending, verify = _probe(ctx, window, pending, (total, at), counts, reread_whole)
        if not pending:
            return counts
    return counts


def _probe(ctx: RunContext, window: HotWindow, pending: list[date],
           counted: tuple[int, datetime], counts: dict[date, tuple[int, datetime]],
           reread_whole: Callable[[date], None]) -> tuple[list[date], bool]:
    """Read the heads of `pending`'s days, newest first, whose range the upstream counted
    `counted` (total, when) and the mirror holds less of; each day settled is put in
    `counts`. (The days left to count again, oldest first; whether one of them holds more
    than its count: the days are then counted one by one.)

    A head that lets no call in and whose count equals what the mirror holds says the day
    had that many already when the range was counted (counts only grow): the range's count
    less the day's is then the older days' own, taken at the same moment. A head that lets
    calls in says nothing of when they came: the older days are counted again."""
    total, at = counted
    left = list(pending)
    while left:
        day = left[-1]
        before = window.held(day)
        window.reread_head(day)
        count, now = window.totals[day], window.held(day)
        if count < now:
            ctx.note("counted", f"{day}: upstream {count}, mirrored {now}; counting each day")
            return left, True
        if count > now:
            ctx.note("reread", f"{day}: {count - now} calls missing after its head; "
                               f"re-reading the day")
            reread_whole(day)
            return left, False
        counts[day] = (count, ctx.clock())
        left.pop()
        if now != before:
            return left, False
        total -= count
        held = sum(window.held(d) for d in left)
        if total < held:
            return left, True
        if total == held:
            counts.update({d: (window.held(d), at) for d in left})
            return [], False
    return left, False


def _count_each_day(ctx: RunContext, window: HotWindow, days: list[date],
                    reread_whole: Callable[[date], None]) -> dict[date, tuple[int, datetime]]:
    """`settle_counts` when the mirror's days may not be the upstream's: every day counted on
    its own in every round; the same counts seen twice that still disagree after the reads
    they asked for teach the shift (`learn_shift`)."""
    counts: dict[date, tuple[int, datetime]] = {}
    before: dict[date, int] = {}
    for round_no in range(1, COUNT_ROUNDS + 1):
        counts = {day: (window.count(day, day), ctx.clock()) for day in days}
        held = {day: window.held(day) for day in days}
        now = {day: counts[day][0] for day in days}
        if round_no > 1 and now == before and now != held:
            # The same counts after the reads they asked for: the mirror holds every call
            # of those days, so the upstream's days are not the ones we count its calls in.
            shift = learn_shift(ctx.environment, now, window.shift)
            if shift is not None and shift != window.shift:
                ctx.note("zone", f"the upstream's days run {_hours(shift)} from UTC's "
                                 f"(learned from its counts; was {_hours(window.shift)})")
                window.shifted(shift)
                held = {day: window.held(day) for day in days}
        before = now
        off = {day: counts[day][0] - held[day] for day in days if counts[day][0] != held[day]}
        if not off:
            return counts
        ctx.note("counted", f"round {round_no}: " + ", ".join(
            f"{day}: upstream {counts[day][0]}, mirrored {held[day]}" for day in off))
        if round_no == COUNT_ROUNDS:
            break
        for day, short in off.items():
            if short > 0:
                window.reread_head(day)
                if window.totals[day] > window.held(day):
                    ctx.note("reread", f"{day}: {window.totals[day] - window.held(day)} "
                                       f"calls missing after its head; re-reading the day")
                    reread_whole(day)
    return counts


def learn_shift(env: Any, counts: dict[date, int], current: timedelta) -> timedelta | None:
    """How far (a whole quarter hour, UTC-12..+14) the upstream's days run from UTC's, the
    nearest to `current` under which the mirror holds exactly each day's count; None when
    none does (calls still missing: the next round's reads and counts try again).

    Talkover does not say which zone its date filters count days in; its counts do: a call
    is in the day whose `date_from=date_to` listing counts it."""
    days = sorted(counts)
    low = ledger.day_bounds(days[0], SHIFTS[-1])[0]
    high = ledger.day_bounds(days[-1], SHIFTS[0])[1]
    times = sorted(Call.objects.filter(environment=env, started_at__gte=low,
                                       started_at__lt=high).values_list("started_at", flat=True))
    rejected = {day: ledger.rejected_count(env, day) for day in days}
    for shift in sorted(SHIFTS, key=lambda s: (abs(s - current), s)):
        if all(bisect_left(times, end) - bisect_left(times, start) + rejected[day] == counts[day]
               for day in days for start, end in [ledger.day_bounds(day, shift)]):
            return shift
    return None


def _hours(shift: timedelta) -> str:
    minutes = int(shift.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def pay_rollups(ctx: RunContext, cursor: CallsCursor, dirty: set[str]) -> None:
    """In the caller's transaction: refresh the rollups of the local days the `dirty`
    upstream days overlap, and clear the cursor's debt."""
    if dirty:
        tz = ctx.environment.organization.tzinfo
        local: set[date] = set()
        for day in dirty:
            local |= local_days_for_upstream_day(date.fromisoformat(day), cursor.day_shift, tz)
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
