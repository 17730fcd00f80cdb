"""What a Vapi call or assistant must look like to be written (else it is a rejected record).

Everything but the id and `createdAt` may be absent or null (the reference says so); what is
present must be of its documented kind: times ISO 8601, `cost` a number, `costBreakdown` and
`analysis` objects, numbers short strings. Words outside the documented sets (a status, a
type, an ended reason) are kept as sent and noted, never refused (`records.unknown_values`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.providers.validation import (
    Rejected,
    identifier,
    moment,
    no_nul_anywhere,
    number,
    object_or_empty,
    text,
)

NUMBER_MAX = 32
WORD_MAX = 64
# Costs beyond this are not a call's (a corrupt record): refused, never clipped.
COST_MAX = 1_000_000.0


@dataclass(frozen=True, slots=True)
class CallValues:
    """The checked column values of one call."""

    id: str
    assistant_id: str
    type: str
    status: str
    ended_reason: str
    customer_number: str
    our_number: str
    created_at: datetime
    updated_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    cost: float | None
    cost_breakdown: dict[str, Any] | None


def _number_of(holder: Any, field: str) -> str:
    if holder is None:
        return ""
    if not isinstance(holder, dict):
        raise Rejected(f"{field} must be an object")
    return text(holder.get("number"), f"{field}.number", NUMBER_MAX)


def check_call(item: Any, canonical_text: str | None = None) -> CallValues:
    """The checked values of one `/call` item, or Rejected."""
    if not isinstance(item, dict):
        raise Rejected("not a JSON object")
    no_nul_anywhere(item, canonical_text)
    breakdown = item.get("costBreakdown")
    if breakdown is not None:
        object_or_empty(breakdown, "costBreakdown")
    analysis = item.get("analysis")
    if analysis is not None:
        object_or_empty(analysis, "analysis")
        check_analysis(analysis)
    cost = number(item.get("cost"), "cost", maximum=COST_MAX)
    return CallValues(
        id=identifier(item.get("id"), "id"),
        assistant_id=identifier(item.get("assistantId"), "assistantId", required=False),
        type=text(item.get("type"), "type", WORD_MAX),
        status=text(item.get("status"), "status", WORD_MAX),
        ended_reason=text(item.get("endedReason"), "endedReason", 255),
        customer_number=_number_of(item.get("customer"), "customer"),
        our_number=_number_of(item.get("phoneNumber"), "phoneNumber"),
        created_at=moment(item.get("createdAt"), "createdAt",  # type: ignore[arg-type]
                          required=True),
        updated_at=moment(item.get("updatedAt"), "updatedAt"),
        started_at=moment(item.get("startedAt"), "startedAt"),
        ended_at=moment(item.get("endedAt"), "endedAt"),
        cost=cost, cost_breakdown=breakdown,
    )


def check_analysis(analysis: dict[str, Any]) -> None:
    """`summary` text, `structuredData` an object (each may be absent or null); the success
    evaluation is any JSON value (its kind is the assistant's rubric: `sync.analysis`)."""
    summary = analysis.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise Rejected("analysis.summary must be text")
    if analysis.get("structuredData") is not None:
        object_or_empty(analysis.get("structuredData"), "analysis.structuredData")


def check_assistant(item: Any) -> tuple[str, str, datetime | None, datetime | None]:
    """(id, name, createdAt, updatedAt) of one `/assistant` item, or Rejected."""
    if not isinstance(item, dict):
        raise Rejected("not a JSON object")
    no_nul_anywhere(item)
    return (identifier(item.get("id"), "id"), text(item.get("name"), "name", 200),
            moment(item.get("createdAt"), "createdAt"),
            moment(item.get("updatedAt"), "updatedAt"))
