"""Turn upstream Talkover records into model instances (pure functions, no queries)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from portal.models import Environment
from sync.models import CallbackSourceDay, CallStatus, Direction
from sync.upsert import canonical, payload_hash

CALL_UPDATE_FIELDS = [
    "sid", "agent", "agent_external_id", "to_number", "to_formatted", "from_number",
    "from_formatted", "direction", "status", "provider_status", "duration", "is_testing",
    "started_at", "upstream_updated_at", "raw", "payload_hash", "last_changed_at",
]
AGENT_UPDATE_FIELDS = [
    "name", "label", "description", "language", "direction", "current_status", "is_sandbox",
    "is_callback", "source_agent_ids", "raw", "payload_hash", "upstream_created_at",
    "upstream_updated_at", "last_seen_at",
]
_STATUSES = set(CallStatus.values)
_DIRECTIONS = set(Direction.values)


class Rejected(ValueError):
    """A record we cannot store (no id, no creation time); counted, never a crash."""


def when(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (naive ones are UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)  # C-fast; Python 3.11 reads "…Z" too
    except ValueError:
        try:
            moment = parse_datetime(value)
        except ValueError:
            return None
        if moment is None:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def text(value: Any, limit: int) -> str:
    """A column-safe string: None becomes "", long values are cut to the column size."""
    return "" if value is None else str(value)[:limit]


def talkover_call(env: Environment, item: Any, agent_pks: dict[str, int]) -> dict[str, Any]:
    """A Call row (field attnames → values) from one `/calls` item.

    Plain dicts, not model instances: building ~20-field instances was a quarter of a
    back-fill's time. Raises Rejected when the item has no id or creation time.
    """
    if not isinstance(item, dict) or not item.get("id"):
        raise Rejected("call without an id")
    started = when(item.get("created_at"))
    if started is None:
        raise Rejected(f"call {item['id']}: created_at missing or not a timestamp")
    agent = item.get("agent") if isinstance(item.get("agent"), dict) else {}
    agent_id = text(agent.get("id"), 64)
    status = text(item.get("status"), 32)
    try:
        duration = max(0, int(item.get("duration") or 0))
    except (TypeError, ValueError):
        duration = 0
    raw = canonical(item)
    return {
        "environment_id": env.pk, "external_id": text(item["id"], 64),
        "sid": text(item.get("sid"), 64), "agent_id": agent_pks.get(agent_id),
        "agent_external_id": agent_id, "to_number": text(item.get("to"), 32),
        "to_formatted": text(item.get("to_formatted"), 40),
        "from_number": text(item.get("from"), 32),
        "from_formatted": text(item.get("from_formatted"), 40),
        "direction": item["direction"] if item.get("direction") in _DIRECTIONS else "",
        "status": status if status in _STATUSES else "",
        "provider_status": "" if status in _STATUSES else status,
        "duration": duration, "is_testing": bool(item.get("is_testing")),
        "started_at": started, "upstream_updated_at": when(item.get("updated_at")),
        "raw": raw, "payload_hash": raw.digest,
    }


def talkover_agent(env: Environment, item: dict[str, Any], callback: dict[str, Any] | None,
                   seen_at: datetime) -> dict[str, Any]:
    """An Agent from `/agents` (or `/callback-agents` alone) plus its callback config."""
    sources = []
    if callback is not None:
        config = callback.get("callback_config") or {}
        sources = [str(s) for s in config.get("source_agent_ids") or []]
    return dict(
        environment_id=env.pk, external_id=text(item["id"], 64),
        name=text(item.get("name"), 200), label=text(item.get("label"), 200),
        description=text(item.get("description"), 10000),
        language=text(item.get("language"), 32), direction=text(item.get("direction"), 16),
        current_status=text(item.get("current_status"), 32),
        is_sandbox=bool(item.get("is_sandbox")), is_callback=callback is not None,
        source_agent_ids=sources, raw=item,
        payload_hash=payload_hash([item, callback]),
        upstream_created_at=when(item.get("created_at")),
        upstream_updated_at=when(item.get("updated_at")), last_seen_at=seen_at,
    )


def callback_day(env: Environment, day: Any, data: dict[str, Any]) -> dict[str, Any]:
    """A CallbackDay row from one day's stats `data`."""
    return dict(
        environment_id=env.pk, day=day, total_received=data["total_callbacks_received"],
        answered=data["callbacks_answered"], unmatched=data["callbacks_unmatched"], raw=data,
        payload_hash=payload_hash(data),
    )


def callback_sources(env: Environment, day: Any, data: dict[str, Any]) -> list[CallbackSourceDay]:
    """One CallbackSourceDay per source agent of the day (later duplicates win)."""
    rows: dict[str, CallbackSourceDay] = {}
    for item in data.get("callbacks_by_source_agent") or []:
        source = text(item.get("source_agent_id"), 64)
        rows[source] = CallbackSourceDay(
            environment=env, day=day, source_agent_id=source,
            name=text(item.get("name"), 200), count=int(item.get("count") or 0))
    return list(rows.values())
