"""Retell streams: agents and calls.

Retell lists calls by `start_timestamp` (ms) with a cursor (`pagination_key`) and keeps no
modification time, yet a call changes after it ends (its cost, its analysis minutes to hours
later). So:

- **Back-fill** (no cursor yet, or one left unfinished): UTC days before today, newest first,
  back to the environment's horizon; each day is one closed range read page by page to its
  last page (no `pagination_key`), then the cursor keeps the next day to read — saved in the
  transaction that wrote the day's data, so a stopped run goes on from there.
- **Incremental** (every run, the back-fill's first included): every call that started at or
  after `since − lookback`, page by page to the last; `since` moves to the latest
  `start_timestamp` the upstream showed. `RETELL_LOOKBACK_SECONDS` (default two days) is how
  long after its start a call is read again, for the analysis, cost and status that come
  after it ends: a change later than that is not seen (docs/providers.md says why).
- **Reaching back** (`--full`, or a horizon moved further back): the back-fill again from
  today or from the day before the oldest read.

Equal start timestamps are the cursor's business (it is Retell's own position, not a time we
compute). An answer is complete when Retell gives no further key; a key seen twice fails the
run rather than loop. Unchanged records are known by their stored hash; new and changed ones
are upserted per page, their local days' rollups refreshed with the cursor that forgets them.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from sync import quarantine
from sync.models import Agent
from sync.providers.call_pages import CallPageWriter
from sync.providers.errors import BadResponse
from sync.providers.records import AGENT_UPDATE_FIELDS, Rejected
from sync.providers.retell.client import LIMIT, LIST_CALLS
from sync.providers.retell.records import (
    RETELL_CALL_UPDATE_FIELDS,
    call_key,
    instant,
    retell_agent,
    retell_call,
    start_ms,
    unknown_values,
)
from sync.run_context import RunContext
from sync.write.rollups import refresh_rollups
from sync.write.upsert import upsert

DAY_MS = 86_400_000


def page_size() -> int:
    """Calls a page asks for (`RETELL_PAGE_SIZE`; Retell allows up to 1,000)."""
    return int(getattr(settings, "RETELL_PAGE_SIZE", LIMIT))


def lookback_ms() -> int:
    return int(float(getattr(settings, "RETELL_LOOKBACK_SECONDS", 2 * 86_400)) * 1000)


def sync_agents(ctx: RunContext) -> None:
    """Every agent `GET /list-agents` answers (one request: the listing has no pages)."""
    env, seen_at = ctx.environment, timezone.now()
    latest: dict[str, Any] = {}
    for item in ctx.client.agents():
        # One entry per version of an agent: the last listed stands for it.
        agent_id = item.get("agent_id") if isinstance(item, dict) else None
        latest[agent_id if isinstance(agent_id, str) else f"#{len(latest)}"] = item
    rows = []
    with ctx.page_transaction():
        for item in latest.values():
            try:
                rows.append(retell_agent(env, item, seen_at))
            except Rejected as exc:
                quarantine.reject(ctx, item, str(exc))
        fields = [f for f in AGENT_UPDATE_FIELDS
                  if f in ("name", "raw", "payload_hash", "upstream_updated_at",
                           "last_seen_at")]
        ctx.record(upsert(Agent, env, rows, key="external_id", update_fields=fields))


class _Pages:
    """Reads ranges of starts page by page; each page's new and changed calls are written
    (`CallPageWriter`)."""

    def __init__(self, ctx: RunContext, cursor: dict[str, Any]) -> None:
        self.ctx, self.cursor = ctx, cursor
        self.dirty: set[str] = set(cursor.get("dirty_days", []))
        self.write = CallPageWriter(
            ctx, cursor, self.dirty, to_row=retell_call, key_of=call_key,
            unknown_values=unknown_values, started_of=lambda item: instant(start_ms(item)),
            update_fields=RETELL_CALL_UPDATE_FIELDS)
        self.requests = 0

    def read(self, lower_ms: int, upper_ms: int | None = None) -> int | None:
        """Every call that started in the range, to the last page; the latest start seen."""
        key: str | None = None
        seen_keys: set[str] = set()
        latest: int | None = None
        while True:
            self.requests += 1
            page = self.ctx.client.list_calls(lower_ms, upper_ms, limit=page_size(),
                                              pagination_key=key)
            self.write(page.calls)
            starts = [s for s in map(start_ms, page.calls) if s is not None]
            latest = max([*starts, *([latest] if latest is not None else [])], default=None)
            if page.next_key is None or not page.calls:
                return latest
            if page.next_key in seen_keys:
                raise BadResponse(f"POST /{LIST_CALLS}: the same pagination_key twice",
                                  path=LIST_CALLS)
            seen_keys.add(key := page.next_key)

    def save(self) -> None:
        """The rollups of the days written since the last save, and the cursor (in the
        caller's transaction: state after data)."""
        if self.dirty:
            refresh_rollups(self.ctx.environment, {date.fromisoformat(d) for d in self.dirty})
            self.ctx.bump_data_version()
            self.dirty.clear()
        self.cursor["dirty_days"] = []
        self.ctx.save_cursor(self.cursor)


def _day_ms(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp() * 1000)


def sync_calls(ctx: RunContext) -> None:
    """The back-fill's remaining days (if any), then every call started since the last run
    less the lookback."""
    env = ctx.environment
    cursor = ctx.cursor()
    pages = _Pages(ctx, cursor)
    today = ctx.now.astimezone(UTC).date()
    horizon = today - timedelta(days=max(env.backfill_days, 1) - 1)
    if "since_ms" not in cursor:
        # Today is the incremental read's; the back-fill reads the days before it.
        cursor.update(since_ms=_day_ms(today), next_day=(today - timedelta(days=1)).isoformat(),
                      oldest=today.isoformat())
    elif not cursor.get("next_day"):
        _reach_back(ctx, cursor, today, horizon)
    day = date.fromisoformat(cursor["next_day"]) if cursor.get("next_day") else None
    ctx.progress.begin(f"{env.name}: calls", max(0, (day - horizon).days + 1) if day else 0)
    while day is not None and day >= horizon:
        pages.read(_day_ms(day), _day_ms(day) + DAY_MS - 1)
        cursor.update(next_day=(day - timedelta(days=1)).isoformat(), oldest=day.isoformat())
        with ctx.page_transaction():
            pages.save()
        ctx.progress.step()
        day -= timedelta(days=1)
    cursor.pop("next_day", None)
    latest = pages.read(max(cursor["since_ms"] - lookback_ms(), _day_ms(horizon)))
    if latest is not None and latest > cursor["since_ms"]:
        cursor["since_ms"] = latest
    cursor["read_through"] = ctx.now.isoformat()
    ctx.run.details["requests_by_kind"] = {"listings": pages.requests}
    with ctx.page_transaction():
        pages.save()
    ctx.progress.end()


def _reach_back(ctx: RunContext, cursor: dict[str, Any], today: date, horizon: date) -> None:
    """`--full` reads every day again from yesterday; a horizon further back than the oldest
    day read (a longer `--backfill-days`) reads the days before it."""
    oldest = date.fromisoformat(cursor["oldest"]) if cursor.get("oldest") else None
    if ctx.full:
        cursor["next_day"] = (today - timedelta(days=1)).isoformat()
    elif oldest is not None and oldest > horizon:
        cursor["next_day"] = (oldest - timedelta(days=1)).isoformat()
