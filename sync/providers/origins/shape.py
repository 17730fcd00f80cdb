"""What an Origins AI call_stats record must look like to be written (seed 004).

Almost every field may be null; what is present must have its documented type and fit its
column. `check_record` raises `Rejected` naming the first field that does not; values outside
the documented sets (a status, a hang-up cause, a direction) are not rejections: they are
kept as sent and noted by the stream (`records.unknown_values`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.providers.validation import (
    Rejected,
    identifier,
    integer,
    moment,
    no_nul_anywhere,
    number,
    object_or_empty,
    text,
    word,
)


@dataclass(frozen=True, slots=True)
class RecordValues:
    """The checked column values of one record."""

    call_id: str
    from_number: str
    to_number: str
    call_status: str
    direction: str
    call_duration: float | None
    billed_duration: float | None
    initiation_time: datetime | None
    answer_time: datetime | None
    end_time: datetime | None
    queued_at: datetime | None
    hangup_cause: str
    hangup_source: str


def queued_at(item: dict[str, Any]) -> datetime | None:
    """When the call was queued: its first state change (present from the first version on)."""
    changes = item.get("call_state_changes")
    if isinstance(changes, list) and changes and isinstance(changes[0], dict):
        return moment(changes[0].get("at"), "call_state_changes[0].at")
    return None


def check_record(item: Any, canonical_text: str | None = None) -> RecordValues:
    """The checked values of one record, or Rejected."""
    if not isinstance(item, dict):
        raise Rejected("not a JSON object")
    if not item.get("call_id"):
        raise Rejected("missing call_id")
    no_nul_anywhere(item, canonical_text)
    integer(item.get("call_agent_id"), "call_agent_id", maximum=2**63 - 1)
    insights = object_or_empty(item.get("call_insights"), "call_insights")
    if insights.get("summary") is not None and not isinstance(insights["summary"], str):
        raise Rejected("call_insights.summary must be text")
    return RecordValues(
        call_id=identifier(item["call_id"], "call_id"),
        from_number=text(item.get("from_number"), "from_number", 32),
        to_number=text(item.get("to_number"), "to_number", 32),
        call_status=word(item.get("call_status"), "call_status", 32),
        direction=word(item.get("call_direction"), "call_direction", 32),
        call_duration=number(item.get("call_duration"), "call_duration"),
        billed_duration=number(item.get("billed_duration"), "billed_duration"),
        initiation_time=moment(item.get("initiation_time"), "initiation_time"),
        answer_time=moment(item.get("answer_time"), "answer_time"),
        end_time=moment(item.get("end_time"), "end_time"),
        queued_at=queued_at(item),
        hangup_cause=text(item.get("hangup_cause_name"), "hangup_cause_name", 64),
        hangup_source=text(item.get("hangup_source"), "hangup_source", 64),
    )
