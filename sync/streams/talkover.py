"""Talkover streams: agents, calls (a UTC day at a time) and daily callback stats.

Calls: the window ends at the run's start day, re-reads `lookback_days` before it, and on a
first sync reaches back `backfill_days`. Offset paging shifts when calls arrive mid-read, so
after a day's last page the unique ids seen are compared with `pagination.total`; when ids
are missing the day is read again from page 1 until complete (at most MAX_DAY_READS passes).
Each page commits with its cursor; a day's last page also refreshes the rollups of the local
days it touches, bumps the data version and advances the cursor past the day.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from sync.engine import RunContext
from sync.models import Agent, Call, CallbackDay, CallbackSourceDay
from sync.rollups import local_days_for_utc_day, refresh_rollups
from sync.streams.prefetch import Prefetcher
from sync.streams.records import (
    AGENT_UPDATE_FIELDS,
    CALL_UPDATE_FIELDS,
    Rejected,
    callback_day,
    callback_sources,
    talkover_agent,
    talkover_call,
)
from sync.upsert import upsert

MAX_DAY_READS = 4
# Pages of a day's first pass asked for ahead: several, so the fetching thread stays ahead
# of writing even when a page's write is slow (a rollup refresh, a checkpoint).
PREFETCH_PAGES = 8


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- agents ---------------------------------------------------------------------------------

def sync_agents(ctx: RunContext) -> None:
    """All pages of /agents plus /callback-agents, upserted together."""
    env, client = ctx.environment, ctx.client
    callbacks = {str(c["id"]): c for c in client.callback_agents() if c.get("id")}
    items: dict[str, dict[str, Any]] = {}
    pages = 0
    for page in client.agent_pages():
        pages += 1
        for item in page.items:
            if isinstance(item, dict) and item.get("id"):
                items[str(item["id"])] = item
    for agent_id, cb in callbacks.items():
        items.setdefault(agent_id, cb)
    seen_at = timezone.now()
    agents = [talkover_agent(env, item, callbacks.get(i), seen_at) for i, item in items.items()]
    with ctx.page_transaction():
        counts = upsert(Agent, env, agents, key="external_id",
                        update_fields=AGENT_UPDATE_FIELDS)
        Agent.objects.filter(environment=env, external_id__in=list(items)).update(
            last_seen_at=seen_at)
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


class AgentIndex:
    """External agent id → Agent pk; agents first seen in a call get a stub row."""

    def __init__(self, ctx: RunContext) -> None:
        self.env = ctx.environment
        self.pks = dict(Agent.objects.filter(environment=self.env)
                        .values_list("external_id", "pk"))

    def ensure(self, items: list[Any]) -> None:
        missing: dict[str, dict[str, Any]] = {}
        for item in items:
            agent = item.get("agent") if isinstance(item, dict) else None
            if isinstance(agent, dict) and agent.get("id") and str(agent["id"]) not in self.pks:
                missing[str(agent["id"])] = agent
        if not missing:
            return
        Agent.objects.bulk_create(
            [Agent(environment=self.env, external_id=i, name=str(a.get("name") or "")[:200],
                   label=str(a.get("label") or "")[:200]) for i, a in missing.items()],
            ignore_conflicts=True)
        self.pks.update(Agent.objects.filter(environment=self.env, external_id__in=missing)
                        .values_list("external_id", "pk"))


def sync_calls(ctx: RunContext) -> None:
    """The calls stream: the lookback (or first back-fill), then any older back-fill days."""
    env = ctx.environment
    cursor = ctx.cursor()
    end = ctx.now.date()
    ahead, older = plan_call_days(cursor, end, env.lookback_days, ctx.backfill_days, ctx.full)
    if ctx.full or not cursor.get("oldest"):
        cursor = {"oldest": ahead[0].isoformat()}
    ctx.progress.begin(f"{env.name}: calls", len(ahead) + len(older))
    agents = AgentIndex(ctx)
    plan = [(day, "synced_through") for day in ahead] + [(day, "oldest") for day in older]
    reader = Prefetcher(ctx.client.calls_page)
    try:
        for i, (day, advance) in enumerate(plan):
            following = plan[i + 1][0] if i + 1 < len(plan) else None
            _sync_call_day(ctx, day, agents, cursor, advance, reader, following)
            ctx.progress.step()
    finally:
        reader.close()
    ctx.progress.end()


def _sync_call_day(ctx: RunContext, day: date, agents: AgentIndex, cursor: dict[str, Any],
                   advance: str, reader: Prefetcher, following: date | None) -> None:
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
        agents.ensure(page.items)
        calls = []
        for item in page.items:
            try:
                calls.append(talkover_call(env, item, agents.pks))
            except Rejected as exc:
                if passes == 0:
                    rejected += 1
                    ctx.note("rejected", f"{day}: {exc}")
        ids = {c["external_id"] for c in calls}
        repeats = len(ids & seen)
        seen |= ids
        last = page_no >= page.last_page or not page.items
        complete = len(seen) + rejected >= page.total
        finish = (complete and (last or passes > 0)) or (last and passes + 1 >= MAX_DAY_READS)
        with ctx.page_transaction():
            counts = upsert(Call, env, calls, key="external_id",
                            update_fields=CALL_UPDATE_FIELDS)
            counts.unchanged = max(0, counts.unchanged - repeats)  # each call once per day
            counts.rejected = rejected if passes == 0 and last else 0
            dirty = dirty or counts.changed > 0
            if finish:
                if not complete:
                    ctx.note("incomplete", f"{day}: {len(seen)} of {page.total} calls after "
                                           f"{passes + 1} passes")
                if dirty:
                    refresh_rollups(env, local_days_for_utc_day(day, env.organization.tzinfo))
                    ctx.bump_data_version()
                cursor.pop("in_progress", None)
                cursor.pop("page", None)
                cursor[advance] = day.isoformat()
            else:
                cursor["in_progress"], cursor["page"] = day.isoformat(), page_no
            ctx.save_cursor(cursor)
            ctx.record(counts)
        if finish:
            return
        if last:
            ctx.note("reread", f"{day}: saw {len(seen)} of {page.total} calls; re-reading")
            passes, page_no = passes + 1, 1
        else:
            page_no += 1


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
        with ctx.page_transaction():
            counts = upsert(CallbackDay, env, [callback_day(env, day, data)], key="day",
                            update_fields=["total_received", "answered", "unmatched", "raw",
                                           "payload_hash", "fetched_at"])
            if counts.changed:
                sources = callback_sources(env, day, data)
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
