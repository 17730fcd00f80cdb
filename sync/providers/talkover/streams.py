"""Talkover streams: agents, calls (a UTC day at a time) and daily callback stats.

Calls: the window ends at the run's start day, re-reads `lookback_days` before it, and on a
first sync reaches back `backfill_days`. Offset paging shifts when calls arrive mid-read, so
after a day's last page the unique ids seen are compared with `pagination.total`; when ids
are missing the day is read again from page 1 until complete (at most MAX_DAY_READS passes).
Pages go to one `CallWriter`, which commits ≥ 2,000 rows at a time with the cursor (one
update per batch); the batch that ends a day also refreshes the rollups of the local days it
touches, bumps the data version and advances the cursor past the day.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from sync import quarantine
from sync.call_writer import CallWriter
from sync.models import Agent, CallbackDay, CallbackSourceDay, Trigger
from sync.providers.prefetch import Prefetcher
from sync.providers.records import AGENT_UPDATE_FIELDS, Rejected
from sync.providers.talkover.records import (
    callback_day,
    callback_sources,
    talkover_agent,
    talkover_call,
)
from sync.providers.talkover.shape import (
    CallValues,
    call_values,
    callback_values,
    unknown_words,
)
from sync.run_context import RunContext
from sync.upsert import CanonicalJSON, canonical, upsert

MAX_DAY_READS = 4
# Pages of a day's first pass asked for ahead: several, so the fetching thread stays ahead
# of writing even when a page's write is slow (a rollup refresh, a checkpoint).
PREFETCH_PAGES = 8


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
        for item in page.items:
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
        counts = upsert(Agent, env, agents, key="external_id",
                        update_fields=AGENT_UPDATE_FIELDS)
        Agent.objects.filter(environment=env, external_id__in=[a["external_id"]
                                                               for a in agents]).update(
            last_seen_at=seen_at)
        quarantine.clear(ctx)  # every agent was read: what passed now is no longer rejected
        ctx.save_cursor({"agents": len(items), "read_at": seen_at.isoformat()})
        ctx.record(counts, pages=pages)
        if counts.changed:
            ctx.bump_data_version()


# --- calls ----------------------------------------------------------------------------------

def plan_call_days(cursor: dict[str, Any], end: date, lookback: int, backfill: int,
                   full: bool) -> tuple[list[date], list[date]]:
    """(days to read ascending from the cursor, older days to extend the back-fill descending)."""
    first = end - timedelta(days=max(1, backfill) - 1)
    synced = cursor.get("synced_through")
    oldest = cursor.get("oldest")
    if full or not synced or not oldest:
        return days_between(first, end), []
    # From the last day fully read (a paused environment catches up its gap), and never less
    # than the lookback, where late status changes still land.
    start = min(date.fromisoformat(synced), end - timedelta(days=lookback))
    older = days_between(first, date.fromisoformat(oldest) - timedelta(days=1))
    return days_between(start, end), older[::-1]


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


class AgentIndex:
    """External agent id → Agent pk; agents first seen in a call get a stub row."""

    def __init__(self, ctx: RunContext) -> None:
        self.env = ctx.environment
        self.pks = dict(Agent.objects.filter(environment=self.env)
                        .values_list("external_id", "pk"))

    def ensure(self, calls: list[CallValues]) -> None:
        """Stub rows for agents first met in these (checked) calls."""
        missing: dict[str, CallValues] = {}
        for call in calls:
            if call.agent_id and call.agent_id not in self.pks:
                missing[call.agent_id] = call
        if not missing:
            return
        Agent.objects.bulk_create(
            [Agent(environment=self.env, external_id=i, name=c.agent_name,
                   label=c.agent_label) for i, c in missing.items()],
            ignore_conflicts=True)
        self.pks.update(Agent.objects.filter(environment=self.env, external_id__in=missing)
                        .values_list("external_id", "pk"))


def sync_calls(ctx: RunContext) -> None:
    """The calls stream: the lookback (or first back-fill), then any older back-fill days."""
    env = ctx.environment
    cursor = ctx.cursor()
    end = ctx.now.date()
    ahead, older = plan_call_days(cursor, end, env.lookback_days, ctx.backfill_days, ctx.full)
    targeted = ctx.run.trigger == Trigger.WEBHOOK and cursor.get("oldest")
    if targeted:
        # A webhook said a call changed: today only. The schedule's cursor (synced_through,
        # read_through) is left alone, so no gap or lookback day is skipped because of it.
        ahead, older = [end], []
    elif ctx.full or not cursor.get("oldest"):
        # What was read stays read (coverage: sync/coverage.py); only the plan restarts.
        kept = {"read_through": cursor["read_through"]} if cursor.get("read_through") else {}
        cursor = {"oldest": ahead[0].isoformat(), **kept}
    ctx.progress.begin(f"{env.name}: calls", len(ahead) + len(older))
    agents = AgentIndex(ctx)
    plan = [(day, "webhook_read" if targeted else "synced_through") for day in ahead] + [
        (day, "oldest") for day in older]
    reader = Prefetcher(ctx.client.calls_page)
    writer = CallWriter(ctx)
    try:
        for i, (day, advance) in enumerate(plan):
            following = plan[i + 1][0] if i + 1 < len(plan) else None
            _sync_call_day(ctx, day, agents, cursor, advance, reader, following, writer)
            ctx.progress.step()
        writer.flush(cursor)
    except Exception as exc:
        if not isinstance(exc, DatabaseError) and writer.pending:
            # Pages read before an upstream or cache failure are kept with their cursor.
            writer.flush(cursor)
        raise
    finally:
        reader.close()
    ctx.progress.end()


def _sync_call_day(ctx: RunContext, day: date, agents: AgentIndex, cursor: dict[str, Any],
                   advance: str, reader: Prefetcher, following: date | None,
                   writer: CallWriter) -> None:
    """Read one UTC day until the ids seen reach the upstream's `pagination.total`.

    The first pass reads every page. If ids are missing (rows shifted between pages because
    calls arrived), later passes start again at page 1, where new calls land in a
    newest-first listing, and stop as soon as the day is complete.
    """
    env = ctx.environment
    dirty = cursor.get("in_progress") == day.isoformat()  # a killed run stopped mid-day
    seen: set[str] = set()
    rejected = 0
    passes, page_no = 0, 1
    while True:
        page = reader.get((day, page_no))
        if passes == 0 and page.items:
            # Ask ahead only for what the first pass reads anyway: a re-read stops as soon
            # as the day is complete, and a page fetched for nothing would still move the
            # upstream.
            for ahead in range(page_no + 1, min(page.last_page, page_no + PREFETCH_PAGES) + 1):
                reader.ahead((day, ahead))
            if page_no + PREFETCH_PAGES > page.last_page and following is not None:
                reader.ahead((following, 1))
        checked, refused = _check_calls(ctx, page.items)
        if passes == 0:
            rejected += len(refused)
        agents.ensure([v for _, v, _ in checked])
        calls = [talkover_call(env, item, agents.pks, v, raw) for item, v, raw in checked]
        ids = {c["external_id"] for c in calls}
        repeats = len(ids & seen)
        seen |= ids
        last = page_no >= page.last_page or not page.items
        complete = len(seen) + rejected >= page.total
        finish = (complete and (last or passes > 0)) or (last and passes + 1 >= MAX_DAY_READS)
        # Each call is counted once per day (`repeats`); its quarantine goes with its batch.
        writer.add(calls, day=day, repeats=repeats, actions=[
            partial(quarantine.reject, ctx, item, reason, day=day, upstream_id=_id_of(item))
            for item, reason in refused])
        if finish:
            if not complete:
                ctx.note("incomplete", f"{day}: {len(seen)} of {page.total} calls after "
                                       f"{passes + 1} passes")
            writer.finish_day(day, dirty=dirty)
            writer.defer(partial(quarantine.clear, ctx, day=day))  # the day was read whole
            cursor.pop("in_progress", None)
            cursor.pop("page", None)
            cursor[advance] = day.isoformat()
            if advance == "synced_through":
                cursor["read_through"] = read_through(cursor, day, ctx.now)
        else:
            cursor["in_progress"], cursor["page"] = day.isoformat(), page_no
        if writer.due:
            writer.flush(cursor)
        if finish:
            return
        if last:
            ctx.note("reread", f"{day}: saw {len(seen)} of {page.total} calls; re-reading")
            passes, page_no = passes + 1, 1
        else:
            page_no += 1


def _id_of(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else None


def _check_calls(ctx: RunContext, items: list[Any]
                 ) -> tuple[list[tuple[Any, CallValues, CanonicalJSON]], list[tuple[Any, str]]]:
    """((item, checked values, canonical JSON) per good call, (item, reason) per refused one).

    Values outside the documented sets are tallied on the run here, once per call.
    """
    checked, refused = [], []
    for item in items:
        raw = canonical(item)
        try:
            values = call_values(item, raw.text)
        except Rejected as exc:
            refused.append((item, str(exc)))
            continue
        for name, value in unknown_words(values):
            ctx.count_unknown(name, value, values.id)
        checked.append((item, values, raw))
    return checked, refused


# --- callback days --------------------------------------------------------------------------

def sync_callback_days(ctx: RunContext) -> None:
    """One request per day: every day in the lookback and every day never fetched."""
    env, client = ctx.environment, ctx.client
    end = ctx.now.date()
    first = end - timedelta(days=max(1, ctx.backfill_days) - 1)
    have = set(CallbackDay.objects.filter(environment=env, day__gte=first, day__lte=end)
               .values_list("day", flat=True))
    settled_before = end - timedelta(days=env.lookback_days)
    days = [d for d in days_between(first, end)
            if ctx.full or d not in have or d >= settled_before]
    ctx.progress.begin(f"{env.name}: callback days", len(days))
    for day in days:
        data = client.callback_stats(day)
        try:
            values = callback_values(data)
        except Rejected as exc:
            with ctx.page_transaction():
                quarantine.reject(ctx, data, str(exc), day=day, by_day=True)
                ctx.save_cursor({"last_day": day.isoformat()})
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
            ctx.save_cursor({"last_day": day.isoformat()})
            ctx.record(counts)
        ctx.progress.step()
    ctx.progress.end()
