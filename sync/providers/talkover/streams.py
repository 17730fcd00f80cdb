"""Talkover streams: agents, calls (a UTC day at a time) and daily callback stats.

Calls: a first sync reads every day of `backfill_days` whole, newest first (today, then each
older day back to the horizon: `plan_call_days`); later runs are incremental
(`talkover.incremental`: the hot days refreshed for what changed, `talkover.hot_days`; whole
reads for gaps and the lookback's daily reconciliation). Offset paging shifts when calls
arrive mid-read, so after a day's last page the unique ids seen are compared with
`pagination.total`; when ids are missing the day is read again from page 1 until complete
(at most MAX_DAY_READS passes).
Pages go to one `CallWriter`, which commits about 2,000 rows at a time with the cursor (one
update per batch); the batch that ends a day also refreshes the rollups of the local days it
touches, bumps the data version and advances the cursor past the day.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.db import DatabaseError
from django.db.models import Max
from django.utils import timezone

from sync import agent_prices, callback_links, quarantine
from sync.models import Agent, Call, CallbackDay, CallbackSourceDay
from sync.models.core import Trigger
from sync.partitions import backfilled
from sync.providers.prefetch import Prefetcher
from sync.providers.records import AGENT_UPDATE_FIELDS, Rejected
from sync.providers.talkover import incremental, prices
from sync.providers.talkover.call_rows import AgentIndex, id_of, page_calls
from sync.providers.talkover.cursor import Advance, CallsCursor
from sync.providers.talkover.hot_days import sync_hot_days
from sync.providers.talkover.records import (
    callback_day,
    callback_sources,
    talkover_agent,
)
from sync.providers.talkover.shape import (
    callback_values,
)
from sync.run_context import RunContext
from sync.write import ledger
from sync.write.call_writer import CallWriter, refresh_due
from sync.write.upsert import upsert

MAX_DAY_READS = 4
# Pages of the first passes asked for ahead, across days: more than a batch holds, so the
# fetching thread fills the next batch while the writer thread writes this one.
PREFETCH_PAGES = 24


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- agents ---------------------------------------------------------------------------------

def sync_agents(ctx: RunContext) -> None:
    """All pages of /agents plus /callback-agents, upserted together.

    An agent that breaks the documented shape is quarantined; the others are written.
    """
    env, client = ctx.environment, ctx.client
    callbacks: dict[str, dict[str, Any]] = {}
    rejected: list[tuple[Any, str, Any]] = []  # (record, reason, id)
    for cb in client.callback_agents():
        if isinstance(cb, dict) and isinstance(cb.get("id"), str | int) and cb["id"] != "":
            callbacks[str(cb["id"])] = cb
        else:
            rejected.append((cb, "callback agent without an id", None))
    items: dict[str, dict[str, Any]] = {}
    pages = 0
    for page in client.agent_pages():
        pages += 1
        for item in quarantine.drop_duplicates(ctx, page.items, id_of):
            if isinstance(item, dict) and isinstance(item.get("id"), str | int) \
                    and item["id"] != "":
                items[str(item["id"])] = item
            else:
                rejected.append((item, "agent without an id", None))
    for agent_id, cb in callbacks.items():
        items.setdefault(agent_id, cb)
    seen_at = timezone.now()
    agents = []
    for agent_id, item in items.items():
        try:
            agents.append(talkover_agent(env, item, callbacks.get(agent_id), seen_at))
        except Rejected as exc:
            rejected.append((item, str(exc), agent_id))
    with ctx.page_transaction():
        for item, reason, agent_id in rejected:
            quarantine.reject(ctx, item, reason, upstream_id=agent_id)
        callback_config = callback_links.callback_sources(env)
        counts = upsert(Agent, env, agents, key="external_id",
                        update_fields=AGENT_UPDATE_FIELDS)
        if callback_links.config_changed(env, callback_config):
            callback_links.relink_environment(env)
        Agent.objects.filter(environment=env, external_id__in=[a["external_id"]
                                                               for a in agents]).update(
            last_seen_at=seen_at)
        quarantine.clear(ctx)  # every agent was read: what passed now is no longer rejected
        ctx.save_cursor({"agents": len(items), "read_at": seen_at.isoformat()})
        ctx.record(counts, pages=pages)
        if counts.changed:
            ctx.bump_data_version()
    # Once a UTC day per agent: the price snapshot that prices its calls (`prices`).
    if agent_prices.snapshot(env, client, [a["external_id"] for a in agents],
                             prices.read_price, now=ctx.now):
        ctx.bump_data_version()


# --- calls ----------------------------------------------------------------------------------

def plan_call_days(cursor: CallsCursor, end: date, lookback: int, backfill: int,
                   full: bool) -> tuple[list[date], list[date]]:
    """(days to read ascending from the cursor, older days to extend the back-fill descending).

    A first read (or `full`) is newest first: today, then every older day back to the
    horizon, so the days users look at most are mirrored within the first minutes of the
    budget and the rest follows. The cursor's window (`oldest`..`read_through`) stays one
    unbroken run of days all along: today opens it, each older day read moves `oldest` back."""
    first = end - timedelta(days=max(1, backfill) - 1)
    synced, oldest = cursor.synced_through, cursor.oldest
    if full or not synced or not oldest:
        return [end], days_between(first, end - timedelta(days=1))[::-1]
    # From the last day fully read (a paused environment catches up its gap), and never less
    # than the lookback, where late status changes still land.
    start = min(synced, end - timedelta(days=lookback))
    older = days_between(first, oldest - timedelta(days=1))
    return days_between(start, end), older[::-1]


def _read_day_after(ctx: RunContext, end: date, reread: Callable[[date], None]) -> None:
    """Count the day after our today once the back-fill is read, and read it if it holds
    calls: an upstream whose clock or zone runs ahead of ours has begun it, and the mirror
    equals the upstream after this run too (later runs refresh it while it holds calls)."""
    after = end + timedelta(days=1)
    if ctx.client.calls_listing(after, after, 1, 1).total:
        reread(after)


def sync_calls(ctx: RunContext) -> None:
    """The calls stream. A first sync (or `full`) reads every day of the back-fill whole;
    later runs are incremental (`talkover.incremental`): days to read whole (gaps, the
    lookback's reconciliation), the hot days, then any older back-fill days."""
    env = ctx.environment
    cursor = CallsCursor(ctx.cursor())
    refresh_due(ctx, cursor)
    end = ctx.now.date()
    first_read = ctx.full or not cursor.oldest
    cursor, ahead, hot, older = _plan_run(ctx, cursor, first_read)
    ctx.progress.begin(f"{env.name}: calls", len(ahead) + len(hot) + len(older))
    agents = AgentIndex(ctx)
    reader = Prefetcher(ctx.client.calls_page)
    writer = CallWriter(ctx, shift=cursor.day_shift)
    writer.expect(ahead + older)
    # The back-filled months, each settled once read (`backfilled.Settler`).
    settler = backfilled.Settler(ctx, writer, (ahead if first_read else []) + older)

    def whole(days: list[date], advance: Advance, then: Sequence[date] = ()) -> None:
        # `then`: the days read next, whose first pages may be asked for ahead.
        for i, day in enumerate(days):
            _sync_call_day(ctx, day, agents, cursor, advance, reader, [*days[i + 1:], *then],
                           writer)
            settler.read(day)
            ctx.progress.step()

    def reread(day: date) -> None:
        _sync_call_day(ctx, day, agents, cursor, "synced_through", reader, [], writer)
        writer.flush(cursor)
        writer.wait(cursor)

    # The mirror's newest call before this run's whole reads: the hot days' heads start at
    # its day (`HotWindow.head_days`).
    newest = Call.objects.filter(environment=env).aggregate(at=Max("started_at"))["at"] \
        if hot else None
    try:
        whole(ahead, "synced_through", older if not hot else [])
        if hot:
            # Hot days write page by page with the cursor: what is staged goes first.
            writer.flush(cursor)
            writer.wait(cursor)
            sync_hot_days(ctx, hot, agents, cursor, reread, incremental.open_from(
                cursor, end, env.lookback_days), newest)
            ctx.progress.step(len(hot))
        whole(older, "oldest")
        if first_read:
            _read_day_after(ctx, end, reread)
        writer.flush(cursor)
        writer.wait(cursor)
        settler.finish()
    except Exception as exc:
        if not isinstance(exc, DatabaseError) and writer.pending:
            # Pages read before an upstream or cache failure are kept with their cursor.
            writer.flush(cursor)
            writer.wait(cursor)
        raise
    finally:
        reader.close()
        writer.close()
        settler.close()
    ctx.progress.end()


def _plan_run(ctx: RunContext, cursor: CallsCursor, first_read: bool
              ) -> tuple[CallsCursor, list[date], list[date], list[date]]:
    """(cursor, days to read whole now, hot days, older back-fill days newest first).

    A first read restarts the cursor's plan (what was read stays read: sync/coverage.py); a
    later run asks the ledger which lookback days to read whole. A webhook run reads the hot
    days only, at once, unless a gap lies before them: the lookback's reconciliation and any
    back-fill are left to the schedule."""
    env, end = ctx.environment, ctx.now.date()
    ahead, older = plan_call_days(cursor, end, env.lookback_days, ctx.backfill_days, first_read)
    hot: list[date] = []
    if first_read:
        cursor = CallsCursor.restarted(ahead[0], cursor)
    else:
        rows = ledger.rows(env, incremental.candidate_days(end, env.lookback_days))
        ahead = incremental.whole_days(cursor, rows, ctx.now, env.lookback_days)
        hot = [d for d in incremental.refreshed_days(end, env.lookback_days)
               if d >= cursor.oldest]
        if ledger.held(env, end + timedelta(days=1), cursor.day_shift):
            # The upstream has shown calls dated after our today (its clock or zone runs
            # ahead of ours): that day is refreshed like ours.
            hot.append(end + timedelta(days=1))
        if ctx.run.trigger == Trigger.WEBHOOK and not _gap_before_hot(cursor, hot):
            ahead, older = [], []
    return cursor, ahead, hot, older


def _sync_call_day(ctx: RunContext, day: date, agents: AgentIndex, cursor: CallsCursor,
                   advance: Advance, reader: Prefetcher, following: list[date],
                   writer: CallWriter) -> None:
    """Read one UTC day until the ids seen reach the upstream's `pagination.total`.

    The first pass reads every page. If ids are missing (rows shifted between pages because
    calls arrived), later passes start again at page 1, where new calls land in a
    newest-first listing, and stop as soon as the day is complete.
    """
    dirty = cursor.stopped_day == day  # a killed run stopped mid-day
    page_no = cursor.resume_page(day)
    seen: set[str] = set()  # ids this run read
    # What a stopped run read of the day is in the mirror: it counts towards the total.
    known, rejected = _held(ctx, day, cursor.day_shift) if page_no > 1 else (set(), 0)
    passes = 0
    while True:
        page = reader.get((day, page_no))
        if passes == 0 and page.items:
            _ask_ahead(reader, day, page_no, page.last_page, following)
        calls, refused = page_calls(ctx, agents, page.items, day)
        if passes == 0:
            rejected += len(refused)
        ids = {c["external_id"] for c in calls}
        repeats = len(ids & seen)
        seen |= ids
        known |= ids
        last = page_no >= page.last_page or not page.items
        complete = len(known) + rejected >= page.total
        finish = (complete and (last or passes > 0)) or (last and passes + 1 >= MAX_DAY_READS)
        # Each call is counted once per day (`repeats`); its quarantine goes with its batch.
        writer.add(calls, day=day, repeats=repeats, actions=[
            partial(quarantine.reject, ctx, item, reason, day=day, upstream_id=id_of(item))
            for item, reason in refused])
        if finish:
            if not complete:
                ctx.note("incomplete", f"{day}: {len(known)} of {page.total} calls after "
                                       f"{passes + 1} passes")
            writer.finish_day(day, dirty=dirty)
            writer.defer(partial(quarantine.clear, ctx, day=day))  # the day was read whole
            # The ledger counts the mirror's day once its rows are merged, in the same batch.
            writer.defer(partial(_record_ledger, ctx, day, page.total, complete),
                         with_cursor=True)
            cursor.day_read(day, advance, ctx.now)
            if complete:
                ctx.note("reconciled", f"{day}: {page.total} calls, read whole")
        else:
            cursor.stop_at(day, page_no)
        _after_page(ctx, advance, reader, writer, cursor)
        if finish:
            return
        if last:
            ctx.note("reread", f"{day}: saw {len(known)} of {page.total} calls; re-reading")
            passes, page_no = passes + 1, 1
        else:
            page_no += 1


def _after_page(ctx: RunContext, advance: Advance, reader: Prefetcher, writer: CallWriter,
                cursor: CallsCursor) -> None:
    """A batch staged is written. Between the pages of a first back-fill's older days, the
    deliveries' pending hints are served (`sync.webhooks.serving`): what is staged is written
    first, the round runs on the fetching thread (the one that uses the session), and the
    cursor takes what the round saved with its rows."""
    server = ctx.hint_server
    if advance == "oldest" and server is not None and server.due():
        writer.flush(cursor)
        writer.wait(cursor)
        reader.run(server.serve)
        cursor.clear()
        cursor.update(ctx.cursor())
    elif writer.due:
        writer.flush(cursor)


def _held(ctx: RunContext, day: date, shift: timedelta) -> tuple[set[str], int]:
    """(ids the mirror holds for the upstream's day, its quarantined records): where a read
    resumes, what the stopped run wrote of the day."""
    start, end = ledger.day_bounds(day, shift)
    ids = set(Call.objects.filter(environment=ctx.environment, started_at__gte=start,
                                  started_at__lt=end).values_list("external_id", flat=True))
    return ids, ledger.rejected_count(ctx.environment, day)


def _ask_ahead(reader: Prefetcher, day: date, page_no: int, last_page: int,
               following: list[date]) -> None:
    """Ask for the next PREFETCH_PAGES pages the first passes read: the rest of `day`, then
    the following days' (a day's page count is known once its page 1 is in). Only what the
    first pass reads anyway: a re-read stops as soon as the day is complete, and a page
    fetched for nothing would still move the upstream."""
    room = PREFETCH_PAGES
    for ahead in range(page_no + 1, min(last_page, page_no + room) + 1):
        reader.ahead((day, ahead))
    room -= last_page - page_no
    for later in following:
        if room <= 0:
            return
        reader.ahead((later, 1))
        first = reader.peek((later, 1))
        if first is None or not first.items:
            return
        for ahead in range(2, min(first.last_page, room) + 1):
            reader.ahead((later, ahead))
        room -= first.last_page


def _gap_before_hot(cursor: CallsCursor, hot: list[date]) -> bool:
    """Days before the refreshed ones not read yet: a run must read them before the heads,
    or coverage's high-water mark (`read_through`) would claim them."""
    synced = cursor.synced_through
    return not synced or not hot or synced < hot[0] - timedelta(days=1)


def _record_ledger(ctx: RunContext, day: date, total: int, whole: bool,
                   cursor: CallsCursor) -> None:
    """The day's ledger row, and its disagreement in the cursor the batch saves."""
    cursor.note_ledger(ledger.record(ctx.environment, day, total, ctx.now, whole=whole,
                                     shift=cursor.day_shift))


# --- callback days --------------------------------------------------------------------------

def sync_callback_days(ctx: RunContext) -> None:
    """One request per day: every day never fetched, and every day of the lookback, in
    every run. A day settles only when it leaves the lookback: the upstream's callback days
    may be local to any zone and its figures may grow late, so no moment of our clock says
    a day inside the lookback stopped moving.
    """
    env, client = ctx.environment, ctx.client
    end = ctx.now.date()
    first = end - timedelta(days=max(1, ctx.backfill_days) - 1)
    have = set(CallbackDay.objects.filter(environment=env, day__gte=first, day__lte=end)
               .values_list("day", flat=True))
    cursor = ctx.cursor()
    cursor.pop("settled_through", None)  # the old rule's mark: the lookback decides now
    moving = end - timedelta(days=env.lookback_days)
    days = [d for d in days_between(first, end) if ctx.full or d not in have or d >= moving]
    ahead = end + timedelta(days=1)
    if Call.objects.filter(environment=env, started_at__gte=ledger.day_bounds(ahead)[0],
                           started_at__lt=ledger.day_bounds(ahead)[1]).exists():
        days.append(ahead)  # the upstream's day runs ahead of ours: it has begun there
    ctx.progress.begin(f"{env.name}: callback days", len(days))
    for day in days:
        data = client.callback_stats(day)
        try:
            values = callback_values(data)
        except Rejected as exc:
            with ctx.page_transaction():
                quarantine.reject(ctx, data, str(exc), day=day, by_day=True)
                ctx.save_cursor(_callback_cursor(cursor, day))
            ctx.progress.step()
            continue
        with ctx.page_transaction():
            quarantine.clear(ctx, day=day)
            counts = upsert(CallbackDay, env, [callback_day(env, day, data, values)], key="day",
                            update_fields=["total_received", "answered", "unmatched", "raw",
                                           "payload_hash", "fetched_at"])
            if counts.changed:
                sources = callback_sources(env, day, values)
                CallbackSourceDay.objects.filter(environment=env, day=day).exclude(
                    source_agent_id__in=[s.source_agent_id for s in sources]).delete()
                CallbackSourceDay.objects.bulk_create(
                    sources, update_conflicts=True,
                    unique_fields=["environment", "day", "source_agent_id"],
                    update_fields=["name", "count"])
                ctx.bump_data_version()
            else:
                # Unchanged figures are still this run's evidence: the sync page says when
                # each day was last counted (the upsert leaves an unchanged row alone).
                CallbackDay.objects.filter(environment=env, day=day).update(
                    fetched_at=timezone.now())
            ctx.save_cursor(_callback_cursor(cursor, day))
            ctx.record(counts)
        ctx.progress.step()
    ctx.progress.end()


def _callback_cursor(cursor: dict[str, Any], day: date) -> dict[str, Any]:
    """The cursor once `day` is fetched (days are fetched oldest first)."""
    cursor["last_day"] = day.isoformat()
    return cursor
