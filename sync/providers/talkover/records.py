"""Turn upstream Talkover records into model rows (pure functions, no queries)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.models import Environment
from sync.models import CallbackSourceDay
from sync.providers.talkover.shape import (
    CALL_STATUSES,
    CallbackValues,
    CallValues,
    agent_values,
    call_values,
    callback_sources_of,
)
from sync.write.upsert import CanonicalJSON, canonical, payload_hash


def talkover_call(env: Environment, item: Any, agent_pks: dict[str, int],
                  values: CallValues | None = None,
                  raw: CanonicalJSON | None = None) -> dict[str, Any]:
    """A Call row (field attnames → values) from one `/calls` item.

    Plain dicts, not model instances: building ~20-field instances was a quarter of a
    back-fill's time. Raises Rejected when the item breaks the documented shape
    (`talkover.shape`). A status or direction outside the documented sets is stored as sent
    (the stream notes it); the word also stays in `provider_status`, as for Origins.
    """
    raw = raw or canonical(item)
    v = values or call_values(item, raw.text)
    return {
        "environment_id": env.pk, "external_id": v.id,
        "sid": v.sid, "agent_id": agent_pks.get(v.agent_id),
        "agent_external_id": v.agent_id, "to_number": v.to,
        "to_formatted": v.to_formatted, "from_number": v.from_,
        "from_formatted": v.from_formatted, "direction": v.direction,
        "status": v.status,
        "provider_status": "" if v.status in CALL_STATUSES else v.status,
        "duration": v.duration, "is_testing": v.is_testing,
        "started_at": v.created_at, "upstream_updated_at": v.updated_at,
        "raw": raw, "payload_hash": raw.digest,
    }


def talkover_agent(env: Environment, item: dict[str, Any], callback: dict[str, Any] | None,
                   seen_at: datetime) -> dict[str, Any]:
    """An Agent from `/agents` (or `/callback-agents` alone) plus its callback config.

    Raises Rejected when the agent (or its callback config) breaks the documented shape.
    """
    v = agent_values(item)
    sources = callback_sources_of(callback) if callback is not None else []
    return dict(
        environment_id=env.pk, external_id=v.id, name=v.name, label=v.label,
        description=v.description, language=v.language, direction=v.direction,
        current_status=v.current_status, is_sandbox=v.is_sandbox,
        is_callback=callback is not None, source_agent_ids=sources, raw=item,
        payload_hash=payload_hash([item, callback]),
        upstream_created_at=v.created_at, upstream_updated_at=v.updated_at,
        last_seen_at=seen_at,
    )


def callback_day(env: Environment, day: Any, data: dict[str, Any],
                 values: CallbackValues) -> dict[str, Any]:
    """A CallbackDay row from one day's checked stats."""
    return dict(
        environment_id=env.pk, day=day, total_received=values.total_received,
        answered=values.answered, unmatched=values.unmatched, raw=data,
        payload_hash=payload_hash(data),
    )


def callback_sources(env: Environment, day: Any,
                     values: CallbackValues) -> list[CallbackSourceDay]:
    """One CallbackSourceDay per source agent of the day (later duplicates win)."""
    rows: dict[str, CallbackSourceDay] = {}
    for item in values.sources:
        rows[item.source_agent_id] = CallbackSourceDay(
            environment=env, day=day, source_agent_id=item.source_agent_id,
            name=item.name, count=item.count)
    return list(rows.values())
