"""Turn Vapi records into Call and Agent rows (pure functions, no queries).

The whole record is kept in `raw` (as sent: analysis, messages, costs); the columns are what
reports filter and aggregate on, shared with the other providers:

| column | from |
|---|---|
| direction | `type`: inboundPhoneCall → inbound, outboundPhoneCall → outbound, webCall → web; |
|  | any other type kept as sent |
| status | `status` and `endedReason` (`STATUS_TABLE`); the word as sent in `provider_status` |
| from / to | the customer's number and ours (`phoneNumber.number`), by direction |
| started_at | `createdAt` (a call's day never moves); answered_at `startedAt`, ended_at `endedAt` |
| duration | `endedAt − startedAt`, whole seconds |
| hangup_cause | `endedReason`, as sent |
| vendor_cost | `cost` (USD, the call's total, exact as sent), cost_breakdown `costBreakdown` |
| summary | `analysis.summary` |
| judgement | `analysis.successEvaluation` (`sync.analysis.judge`; the value as sent kept) |
| analysis_fields | `analysis.structuredData` (the fields the assistant's analysis extracted) |
| transferred | `endedReason` `assistant-forwarded-call` (`TRANSFERRED`) |
| voicemail | `endedReason` `voicemail` (`VOICEMAIL`) |

The analysis arrives minutes to hours after the call ends and moves `updatedAt`: the
incremental read (`streams.py`, by `updatedAt`) takes it like any other change.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from portal.models import Environment
from sync.analysis import ANALYSIS_FIELDS, Analysis
from sync.models.core import CallStatus, Direction
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.providers.vapi.shape import check_assistant, check_call
from sync.write.upsert import CanonicalJSON, canonical, payload_hash

TYPES = {"inboundPhoneCall": Direction.INBOUND, "outboundPhoneCall": Direction.OUTBOUND,
         "webCall": "web"}
STATUSES = ("scheduled", "queued", "ringing", "in-progress", "forwarding", "ended")
# Vapi's status → ours; an ended call's status depends on why it ended (`ENDED`).
STATUS_TABLE = {"scheduled": CallStatus.QUEUED, "queued": CallStatus.QUEUED,
                "ringing": CallStatus.RINGING, "in-progress": CallStatus.ANSWERED,
                "forwarding": CallStatus.ANSWERED}
# Ended reasons that say the call never connected; any other ended call that started talked
# (completed), and one that never started failed.
ENDED = {"customer-did-not-answer": CallStatus.NO_ANSWER, "customer-busy": CallStatus.BUSY}
# Ended reasons the sync knows (the reference lists many more, and adds to them: any other is
# kept as sent and noted once per run).
KNOWN_ENDED_REASONS = frozenset({
    "customer-ended-call", "assistant-ended-call", "customer-did-not-answer", "customer-busy",
    "voicemail", "assistant-error", "silence-timed-out", "exceeded-max-duration",
    "assistant-forwarded-call", "assistant-said-end-call-phrase",
    "pipeline-error-openai-llm-failed", "twilio-failed-to-connect-call",
    "customer-did-not-give-microphone-permission",
    "manually-canceled", "phone-call-provider-closed-websocket",
})
VAPI_CALL_UPDATE_FIELDS = CALL_UPDATE_FIELDS + [
    "answered_at", "ended_at", "hangup_cause", "vendor_cost", "vendor_cost_currency",
    "cost_breakdown", *ANALYSIS_FIELDS,
]
# Ended reasons that say the assistant handed the call on, or met an answering machine.
TRANSFERRED = frozenset({"assistant-forwarded-call"})
VOICEMAIL = frozenset({"voicemail"})


def call_key(item: Any) -> str:
    """The Call `external_id` a record would be stored under ("" when it has none)."""
    return item["id"] if isinstance(item, dict) and isinstance(item.get("id"), str) else ""


def vapi_status(status: str, ended_reason: str, started: datetime | None) -> str:
    """Our status word for a call (see `STATUS_TABLE`, `ENDED`); an unknown status as sent."""
    if status != "ended":
        return STATUS_TABLE.get(status, status)
    if ended_reason in ENDED:
        return ENDED[ended_reason]
    return CallStatus.COMPLETED if started is not None else CallStatus.FAILED


def unknown_values(item: Any) -> list[tuple[str, str]]:
    """(field, value) for each value outside the documented sets (kept as sent)."""
    if not isinstance(item, dict):
        return []
    found = []
    for name, known in (("status", STATUSES), ("type", TYPES),
                        ("endedReason", KNOWN_ENDED_REASONS)):
        value = item.get(name)
        if isinstance(value, str) and value and value not in known and value.isprintable():
            found.append((name, value[:64]))
    return found


def _exact(value: Any) -> Decimal | None:
    """The cost as sent (its JSON number's digits), not a float's approximation."""
    if value is None or isinstance(value, bool):
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def vapi_analysis(item: dict[str, Any], ended_reason: str) -> Analysis:
    """The call's analysis (`shape.check_call` checked `analysis` is an object or null)."""
    analysis = item.get("analysis") or {}
    summary, structured = analysis.get("summary"), analysis.get("structuredData")
    return Analysis(summary=summary if isinstance(summary, str) else "",
                    success=analysis.get("successEvaluation"),
                    fields=structured if isinstance(structured, dict) else {},
                    transferred=ended_reason in TRANSFERRED,
                    voicemail=ended_reason in VOICEMAIL)


def vapi_call(env: Environment, item: Any, agent_pks: dict[str, int],
              raw: CanonicalJSON | None = None,
              thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """A Call row (attnames → values) from one `/call` item; Rejected when it breaks the
    documented shape (`shape.check_call`). `thresholds`: the organisation's success
    thresholds by assistant id (`sync.analysis.thresholds`)."""
    raw = raw or canonical(item)
    v = check_call(item, raw.text)
    direction = TYPES.get(v.type, v.type)
    inbound = direction != Direction.OUTBOUND
    duration = 0
    if v.started_at and v.ended_at and v.ended_at > v.started_at:
        duration = int((v.ended_at - v.started_at).total_seconds() + 0.5)
    status = vapi_status(v.status, v.ended_reason, v.started_at)
    return {
        "environment_id": env.pk, "external_id": v.id,
        "agent_id": agent_pks.get(v.assistant_id), "agent_external_id": v.assistant_id,
        "from_number": v.customer_number if inbound else v.our_number,
        "to_number": v.our_number if inbound else v.customer_number,
        "direction": direction, "status": status, "provider_status": v.status,
        "duration": duration, "started_at": v.created_at, "answered_at": v.started_at,
        "ended_at": v.ended_at, "upstream_updated_at": v.updated_at,
        "hangup_cause": v.ended_reason[:64] if len(v.ended_reason) <= 64 else "",
        "vendor_cost": _exact(item.get("cost")),
        "vendor_cost_currency": "USD" if item.get("cost") is not None else "",
        "cost_breakdown": v.cost_breakdown,
        **vapi_analysis(item, v.ended_reason).columns((thresholds or {}).get(v.assistant_id)),
        "raw": raw, "payload_hash": raw.digest,
    }


def vapi_agent(env: Environment, item: Any, seen_at: datetime) -> dict[str, Any]:
    """An Agent row from one `/assistant` item; Rejected when it breaks the shape."""
    assistant_id, name, created, updated = check_assistant(item)
    return dict(environment_id=env.pk, external_id=assistant_id, name=name, raw=item,
                payload_hash=payload_hash(item), upstream_created_at=created,
                upstream_updated_at=updated, last_seen_at=seen_at)
