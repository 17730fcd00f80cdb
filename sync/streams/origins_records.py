"""Turn Origins AI call records into Call rows (pure functions, no queries).

The whole record is kept in `raw` (transcript, quality, insights, timeline, tool data, costs);
the columns below are what reports filter and aggregate on, shared with Talkover calls.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.models import Environment
from sync.models import CallStatus, Direction
from sync.streams.records import CALL_UPDATE_FIELDS, Rejected, text, when
from sync.upsert import payload_hash

# Origins `call_status` → the portal's status vocabulary. ANSWERED means the call connected;
# Origins has no separate in-progress status, so an answered call whose `end_time` is set has
# finished (`completed`) and one without it is still talking (`answered`). The original word
# is kept in `provider_status`.
ORIGINS_STATUS: dict[str, str] = {
    "ANSWERED": CallStatus.COMPLETED,  # `answered` while end_time is null
    "FAILED": CallStatus.FAILED,
    "INITIATED": CallStatus.INITIATED,
    "QUEUED": CallStatus.QUEUED,
}

ORIGINS_CALL_UPDATE_FIELDS = CALL_UPDATE_FIELDS + [
    "billed_duration", "answered_at", "ended_at", "hangup_cause", "hangup_source",
]
_DIRECTIONS = set(Direction.values)


def queued_at(item: dict[str, Any]) -> datetime | None:
    """When the call was queued: its first state change (present from the first version on)."""
    changes = item.get("call_state_changes")
    if isinstance(changes, list) and changes and isinstance(changes[0], dict):
        return when(changes[0].get("at"))
    return None


def origins_status(item: dict[str, Any]) -> str:
    """The portal status of a record (see ORIGINS_STATUS); "" for a word we do not know."""
    word = item.get("call_status")
    status = ORIGINS_STATUS.get(word, "") if isinstance(word, str) else ""
    if status == CallStatus.COMPLETED and not item.get("end_time"):
        return CallStatus.ANSWERED
    return status


def _seconds(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def origins_call(env: Environment, item: Any, agent_id: int,
                 agent_pk: int | None) -> dict[str, Any]:
    """A Call row (attnames → values) from one call_stats record of `agent_id`.

    `started_at` is `initiation_time`; a call still queued has none, so its queue time (the
    first state change) stands in. `duration` is `call_duration` rounded to whole seconds
    (the column Talkover fills); `billed_duration` keeps the vendor's number. Raises Rejected
    for a record without `call_id` or without any start time.
    """
    if not isinstance(item, dict):
        raise Rejected("not a JSON object")
    if not item.get("call_id"):
        raise Rejected("missing call_id")
    started = when(item.get("initiation_time")) or queued_at(item)
    if started is None:
        raise Rejected("no initiation_time or queue time")
    word = text(item.get("call_status"), 32)
    direction = item.get("call_direction") or Direction.INBOUND  # the vendor's default
    talk = _seconds(item.get("call_duration"))
    return {
        "environment_id": env.pk, "external_id": text(item["call_id"], 64),
        "agent_id": agent_pk, "agent_external_id": str(agent_id),
        "to_number": text(item.get("to_number"), 32),
        "from_number": text(item.get("from_number"), 32),
        "direction": direction if direction in _DIRECTIONS else "",
        "status": origins_status(item), "provider_status": word,
        "duration": int(talk + 0.5) if talk is not None else 0,
        "billed_duration": _seconds(item.get("billed_duration")),
        "started_at": started, "answered_at": when(item.get("answer_time")),
        "ended_at": when(item.get("end_time")),
        "hangup_cause": text(item.get("hangup_cause_name"), 64),
        "hangup_source": text(item.get("hangup_source"), 64),
        "raw": item, "payload_hash": payload_hash(item),
    }
