"""Turn Retell records into Call and Agent rows (pure functions, no queries).

The whole record is kept in `raw` (as sent); the columns are the ones every provider fills:

| column | from |
|---|---|
| direction | `direction` (inbound/outbound) of a phone call; `web` for `call_type` web_call |
| status | `call_status` and `disconnection_reason` (`status_of`); the word as sent in |
|  | `provider_status` |
| from / to | `from_number`, `to_number` (absent on a web call) |
| started_at | `start_timestamp` (ms); ended_at `end_timestamp` |
| duration | `end_timestamp − start_timestamp`, whole seconds (0 for a call not connected) |
| hangup_cause | `disconnection_reason`, as sent |
| vendor_cost | `call_cost.combined_cost` (cents) ÷ 100, USD, exact; absent until Retell sends it |
| summary | `call_analysis.call_summary` |
| judgement | `call_analysis.call_successful` (a boolean: succeeded / failed; absent: not |
|  | evaluated — `sync.analysis.judge`, the value kept as sent) |
| analysis_fields | `call_analysis.custom_analysis_data`, with `user_sentiment` beside it |
| transferred | `disconnection_reason` `call_transfer` |
| voicemail | `disconnection_reason` `voicemail_reached`, or `call_analysis.in_voicemail` |

A call's analysis and cost arrive after it ends and Retell keeps no modification time: the
calls stream re-reads recent starts (`streams.py`) and the stored hash tells what changed.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from portal.models import Environment
from sync.analysis import ANALYSIS_FIELDS, Analysis
from sync.models.core import CallStatus, Direction
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.providers.validation import (
    Rejected,
    identifier,
    integer,
    no_nul_anywhere,
    number,
    object_or_empty,
    text,
)
from sync.write.upsert import CanonicalJSON, canonical, payload_hash

CALL_TYPES = ("web_call", "phone_call")
CALL_STATUSES = ("registered", "not_connected", "ongoing", "ended", "error")
# Reasons a call never connected (the reference's `not_connected` reasons).
NOT_CONNECTED = {"dial_busy": CallStatus.BUSY, "dial_no_answer": CallStatus.NO_ANSWER}
KNOWN_REASONS = frozenset({
    "user_hangup", "agent_hangup", "call_transfer", "voicemail_reached", "ivr_reached",
    "inactivity", "max_duration_reached", "dial_busy", "dial_failed", "dial_no_answer",
    "invalid_destination", "telephony_provider_permission_denied",
    "telephony_provider_unavailable", "sip_routing_error", "marked_as_spam", "user_declined",
    "concurrency_limit_reached", "no_valid_payment", "scam_detected", "error_llm_websocket_open",
    "error_retell", "error_unknown",
})
TRANSFERRED = frozenset({"call_transfer"})
VOICEMAIL = frozenset({"voicemail_reached"})
RETELL_CALL_UPDATE_FIELDS = CALL_UPDATE_FIELDS + [
    "answered_at", "ended_at", "hangup_cause", "vendor_cost", "vendor_cost_currency",
    "cost_breakdown", *ANALYSIS_FIELDS,
]
MS_MAX = 10**14
COST_MAX_CENTS = 100_000_000.0


def call_key(item: Any) -> str:
    """The Call `external_id` a record would be stored under ("" when it has none)."""
    value = item.get("call_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else ""


def status_of(call_status: str, reason: str) -> str:
    """Our status word: registered → queued, ongoing → answered, ended → completed,
    not_connected → busy / no-answer / failed by reason, error → failed; others as sent."""
    if call_status == "not_connected":
        return NOT_CONNECTED.get(reason, CallStatus.FAILED)
    return {"registered": CallStatus.QUEUED, "ongoing": CallStatus.ANSWERED,
            "ended": CallStatus.COMPLETED, "error": CallStatus.FAILED}.get(call_status,
                                                                           call_status)


def instant(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def start_ms(item: Any) -> int | None:
    """The item's `start_timestamp`, None when absent or not a count of milliseconds."""
    value = item.get("start_timestamp") if isinstance(item, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def unknown_values(item: Any) -> list[tuple[str, str]]:
    """(field, value) for each value outside the documented sets (kept as sent)."""
    if not isinstance(item, dict):
        return []
    found = []
    for name, known in (("call_status", CALL_STATUSES), ("call_type", CALL_TYPES),
                        ("disconnection_reason", KNOWN_REASONS)):
        value = item.get(name)
        if isinstance(value, str) and value and value not in known and value.isprintable():
            found.append((name, value[:64]))
    return found


def _ms(item: dict[str, Any], name: str, required: bool = False) -> int | None:
    value = item.get(name)
    if value is None and not required:
        return None
    return integer(value, name, maximum=MS_MAX, default=None)


def _cost(item: dict[str, Any]) -> tuple[Decimal | None, dict[str, Any] | None]:
    """(USD, the `call_cost` object) — None when Retell sent no combined cost."""
    cost = item.get("call_cost")
    if cost is None:
        return None, None
    cost = object_or_empty(cost, "call_cost")
    cents = number(cost.get("combined_cost"), "call_cost.combined_cost",
                   maximum=COST_MAX_CENTS)
    if cents is None:
        return None, cost
    exact = Decimal(repr(cents)) if isinstance(cents, float) else Decimal(cents)
    return exact / 100, cost


def analysis_of(item: dict[str, Any], reason: str) -> Analysis:
    """The call's `call_analysis` (absent until Retell has analysed it)."""
    found = item.get("call_analysis")
    analysis = object_or_empty(found, "call_analysis") if found is not None else {}
    summary = analysis.get("call_summary")
    custom = analysis.get("custom_analysis_data")
    fields = dict(object_or_empty(custom, "call_analysis.custom_analysis_data")) \
        if custom is not None else {}
    if isinstance(analysis.get("user_sentiment"), str):
        fields["user_sentiment"] = analysis["user_sentiment"]
    return Analysis(summary=summary if isinstance(summary, str) else "",
                    success=analysis.get("call_successful"), fields=fields,
                    transferred=reason in TRANSFERRED,
                    voicemail=reason in VOICEMAIL or analysis.get("in_voicemail") is True)


def retell_call(env: Environment, item: Any, agent_pks: dict[str, int],
                raw: CanonicalJSON | None = None,
                thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """A Call row from one list-calls item; Rejected when it breaks the documented shape."""
    if not isinstance(item, dict):
        raise Rejected("not a JSON object")
    raw = raw or canonical(item)
    no_nul_anywhere(item, raw.text)
    call_id = identifier(item.get("call_id"), "call_id")
    agent_id = identifier(item.get("agent_id"), "agent_id", required=False)
    call_type = text(item.get("call_type"), "call_type", 64)
    call_status = text(item.get("call_status"), "call_status", 64)
    reason = text(item.get("disconnection_reason"), "disconnection_reason", 255)
    started, ended = _ms(item, "start_timestamp", required=True), _ms(item, "end_timestamp")
    direction = "web" if call_type == "web_call" else \
        text(item.get("direction"), "direction", 64) or Direction.INBOUND
    status = status_of(call_status, reason)
    connected = call_status in ("ongoing", "ended")
    duration = (ended - started + 500) // 1000 if connected and started and ended \
        and ended > started else 0
    cost, breakdown = _cost(item)
    return {
        "environment_id": env.pk, "external_id": call_id,
        "agent_id": agent_pks.get(agent_id), "agent_external_id": agent_id,
        "from_number": text(item.get("from_number"), "from_number", 32),
        "to_number": text(item.get("to_number"), "to_number", 32),
        "direction": direction, "status": status, "provider_status": call_status,
        "duration": duration, "started_at": instant(started),
        "answered_at": instant(started) if connected else None, "ended_at": instant(ended),
        "upstream_updated_at": None,
        "hangup_cause": reason if len(reason) <= 64 else "",
        "vendor_cost": cost, "vendor_cost_currency": "USD" if cost is not None else "",
        "cost_breakdown": breakdown,
        **analysis_of(item, reason).columns((thresholds or {}).get(agent_id)),
        "raw": raw, "payload_hash": raw.digest,
    }


def retell_agent(env: Environment, item: Any, seen_at: datetime) -> dict[str, Any]:
    """An Agent row from one list-agents item; Rejected when it breaks the shape."""
    if not isinstance(item, dict):
        raise Rejected("not a JSON object")
    no_nul_anywhere(item)
    changed = _ms(item, "last_modification_timestamp")
    return dict(environment_id=env.pk, external_id=identifier(item.get("agent_id"), "agent_id"),
                name=text(item.get("agent_name"), "agent_name", 200), raw=item,
                payload_hash=payload_hash(item), upstream_created_at=None,
                upstream_updated_at=instant(changed), last_seen_at=seen_at)
