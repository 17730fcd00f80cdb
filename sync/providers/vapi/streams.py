"""Vapi streams: assistants (our agents) and calls.

Calls are read by time, never by page (`window.Reader`):

- **Back-fill** (no cursor yet, or one left unfinished): UTC days by `createdAt`, newest
  first, back to the environment's horizon, so recent days are useful first; the cursor keeps
  the next day to read, so a continuation (the token's budget spent) goes on from there.
  Before the first day is read, `since` is fixed: the latest `updatedAt` of that first answer
  (or the horizon, when it was empty: then the first incremental read re-reads the range);
  any call changed after that answer has a later `updatedAt`, whichever day the back-fill
  reads meanwhile. Our clock only chooses the days (today and the horizon); what changed is
  the upstream's `updatedAt` alone.
- **Reaching back** (`--full`, or a horizon moved further back: a longer `--backfill-days`):
  once the back-fill has ended, the days again from today (`--full`) or from the day before
  the oldest one read, back to the horizon, the back-fill's way (`_reach_back`).
- **Incremental** (every run, the back-fill's last one included): every call with
  `updatedAt ≥ since − overlap` (inclusive, so calls sharing `since`'s millisecond are read
  again), read until an answer is short; `since` moves to the latest `updatedAt` that read
  showed (`window.Reader.open`), so a run with nothing new costs one listing.
  `VAPI_OVERLAP_SECONDS` (default 600) re-reads the last minutes each time, for a change the
  upstream shows a little after its `updatedAt`.

Records are compared with their stored hash before anything else (most of an overlap is
unchanged); new and changed ones are upserted in one batch per answer, their local days'
rollups refreshed after each back-fill day and at the end of the stream (the days are kept in
the cursor until then, so a killed run refreshes them on the next). A record that breaks
the documented shape is quarantined and the stream goes on; values outside the documented
sets are kept as sent and noted on the run.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from sync import quarantine
from sync.models import Agent
from sync.partitions import backfilled
from sync.providers.call_pages import CallPageWriter
from sync.providers.records import AGENT_UPDATE_FIELDS, Rejected
from sync.providers.vapi.client import LIMIT
from sync.providers.vapi.records import (
    VAPI_CALL_UPDATE_FIELDS,
    call_key,
    unknown_values,
    vapi_agent,
    vapi_call,
)
from sync.providers.vapi.window import CREATED, MS, UPDATED, Reader, instant_of, iso
from sync.run_context import RunContext
from sync.write.rollups import refresh_rollups
from sync.write.upsert import upsert


def overlap() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "VAPI_OVERLAP_SECONDS", 600)))


def sync_agents(ctx: RunContext) -> None:
    """Every assistant, as an agent (the listing is paged by `createdAt` when full)."""
    env, seen_at = ctx.environment, timezone.now()
    items: dict[str, Any] = {}
    bounds: dict[str, str] = {}
    while True:
        page = ctx.client.assistants(limit=LIMIT, **bounds)
        fresh = [i for i in page if not (isinstance(i, dict) and i.get("id") in items)]
        for item in page:
            items[call_key(item) or str(len(items))] = item
        if len(page) < LIMIT or not fresh:
            break
        oldest = min((t for t in (instant_of(i, CREATED) for i in page) if t), default=None)
        if oldest is None:
            break
        bounds = {"createdAtLe": iso(oldest)}
    rows = []
    with ctx.page_transaction():
        for item in items.values():
            try:
                rows.append(vapi_agent(env, item, seen_at))
            except Rejected as exc:
                quarantine.reject(ctx, item, str(exc), upstream_id=call_key(item) or None)
        fields = [f for f in AGENT_UPDATE_FIELDS
                  if f in ("name", "raw", "payload_hash", "upstream_created_at",
                           "upstream_updated_at", "last_seen_at")]
        ctx.record(upsert(Agent, env, rows, key="external_id", update_fields=fields))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def sync_calls(ctx: RunContext) -> None:
    """The back-fill's remaining days (if any), then every call changed since the last run."""
    env = ctx.environment
    cursor = ctx.cursor()
    dirty: set[str] = set(cursor.get("dirty_days", []))
    write = CallPageWriter(ctx, cursor, dirty, to_row=vapi_call, key_of=call_key,
                           unknown_values=unknown_values,
                           started_of=lambda item: instant_of(item, CREATED),
                           update_fields=VAPI_CALL_UPDATE_FIELDS)
    reader = Reader(ctx.client.calls, write)
    today = ctx.now.astimezone(UTC).date()
    horizon = today - timedelta(days=max(env.backfill_days, 1) - 1)
    # The back-filled days' months settled (`backfilled.DaysSettler`).
    filled = backfilled.DaysSettler(ctx)
    if "since" not in cursor:
        # The first answer fixes `since`: today's calls, read before any other day.
        first = ctx.client.calls(limit=LIMIT, **{f"{CREATED}Ge": iso(_day_start(today))})
        write(first)
        filled.read(today)
        times = [t for t in (instant_of(i, UPDATED) for i in first) if t is not None]
        # Nothing today (or our clock is ahead of the upstream's): no evidence of the
        # upstream's time yet, so the first incremental read starts at the horizon.
        cursor.update(since=iso(max(times, default=_day_start(horizon))),
                      next_day=today.isoformat(), read_through=ctx.now.isoformat())
        if len(first) < LIMIT:
            cursor.update(next_day=(today - timedelta(days=1)).isoformat(),
                          oldest=today.isoformat())
        _save(ctx, cursor, dirty)
    elif not cursor.get("next_day") and _reach_back(ctx, cursor, today, horizon):
        _save(ctx, cursor, dirty)
    day = date.fromisoformat(cursor["next_day"]) if cursor.get("next_day") else None
    ctx.progress.begin(f"{env.name}: calls", max(0, (day - horizon).days + 1) if day else 0)
    while day is not None and day >= horizon:
        reader.closed(CREATED, _day_start(day), _day_start(day + timedelta(days=1)) - MS)
        nxt = day - timedelta(days=1)
        cursor.update(next_day=nxt.isoformat(), oldest=day.isoformat())
        with ctx.page_transaction():
            # Each day read is shown at once, rollups with it: a day coverage calls mirrored
            # must not read as zero in the reports until the whole history is in.
            _refresh(ctx, dirty)
            _save(ctx, cursor, dirty)
        filled.read(day)
        ctx.progress.step()
        day = nxt
    filled.settle()
    cursor.pop("next_day", None)
    since = datetime.fromisoformat(cursor["since"].replace("Z", "+00:00"))
    latest = reader.open(UPDATED, since - overlap())
    if latest is not None and latest > since:
        cursor["since"] = iso(latest)
    cursor["read_through"] = ctx.now.isoformat()
    ctx.run.details["requests_by_kind"] = {"listings": reader.requests, "splits": reader.splits}
    with ctx.page_transaction():
        _refresh(ctx, dirty)
        _save(ctx, cursor, dirty)
    ctx.progress.end()


def _reach_back(ctx: RunContext, cursor: dict[str, Any], today: date, horizon: date) -> bool:
    """After a back-fill ended: days to read again, as the back-fill does (newest first,
    from `next_day`). `--full` re-reads every day from today back to the horizon; a horizon
    further back than the oldest day read (a longer `--backfill-days`) reads the days before
    it. True when there is such a day."""
    oldest = date.fromisoformat(cursor["oldest"]) if cursor.get("oldest") else None
    if ctx.full:
        start = today
    elif oldest is not None and oldest > horizon:
        start = oldest - timedelta(days=1)
    else:
        return False
    cursor["next_day"] = start.isoformat()
    return True


def _refresh(ctx: RunContext, dirty: set[str]) -> None:
    """The rollups of the local days written since the last refresh (in the caller's
    transaction, with the cursor that forgets them)."""
    if dirty:
        refresh_rollups(ctx.environment, {date.fromisoformat(d) for d in dirty})
        ctx.bump_data_version()
        dirty.clear()


def _save(ctx: RunContext, cursor: dict[str, Any], dirty: set[str]) -> None:
    cursor["dirty_days"] = sorted(dirty)
    ctx.save_cursor(cursor)
