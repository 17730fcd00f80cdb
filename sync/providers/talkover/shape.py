"""What a Talkover record must look like to be written (see /api/v1 in the upstream README).

One function per record kind returns the record's values, checked and typed, or raises
`Rejected` naming the first field that breaks the documented shape. Statuses and directions
outside the documented sets are not rejections: they are kept as sent and noted by the
stream (`unknown_words`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sync.models.core import CallStatus, Direction
from sync.providers.validation import (
    INT_MAX,
    Rejected,
    boolean,
    identifier,
    integer,
    moment,
    no_nul_anywhere,
    object_or_empty,
    text,
    word,
)

CALL_STATUSES = frozenset(CallStatus.values) - {CallStatus.QUEUED}
DIRECTIONS = frozenset(Direction.values)
AGENT_STATUSES = frozenset({"draft", "published"})
WORD_MAX = 32  # status and direction columns


class CallValues(NamedTuple):
    """A checked /calls item.

    A named tuple, immutable as a frozen dataclass is but made in C: a frozen dataclass sets
    each of its 15 fields through `object.__setattr__`, three times the cost, for each call a
    back-fill reads."""

    id: str
    sid: str
    agent_id: str
    agent_name: str
    agent_label: str
    to: str
    to_formatted: str
    from_: str
    from_formatted: str
    direction: str
    status: str
    duration: int
    is_testing: bool
    created_at: datetime
    updated_at: datetime | None


def call_values(item: Any, canonical_text: str | None = None) -> CallValues:
    """The checked values of one /calls (or /agents/{id}/calls) item."""
    if not isinstance(item, dict):
        raise Rejected("call is not a JSON object")
    no_nul_anywhere(item, canonical_text)
    call_id = identifier(item.get("id"), "id")
    agent = object_or_empty(item.get("agent"), "agent")
    return CallValues(
        id=call_id,
        sid=identifier(item.get("sid"), "sid", required=False),
        agent_id=identifier(agent.get("id"), "agent.id", required=False),
        agent_name=text(agent.get("name"), "agent.name", 200),
        agent_label=text(agent.get("label"), "agent.label", 200),
        to=text(item.get("to"), "to", 32),
        to_formatted=text(item.get("to_formatted"), "to_formatted", 40),
        from_=text(item.get("from"), "from", 32),
        from_formatted=text(item.get("from_formatted"), "from_formatted", 40),
        direction=word(item.get("direction"), "direction", WORD_MAX),
        status=word(item.get("status"), "status", WORD_MAX),
        duration=integer(item.get("duration"), "duration"),
        is_testing=boolean(item.get("is_testing"), "is_testing"),
        created_at=moment(item.get("created_at"), "created_at", required=True),  # type: ignore[arg-type]
        updated_at=moment(item.get("updated_at"), "updated_at"),
    )


def unknown_words(values: CallValues) -> list[tuple[str, str]]:
    """(field, value) for a status or direction outside the documented sets."""
    found = []
    if values.status and values.status not in CALL_STATUSES:
        found.append(("status", values.status))
    if values.direction and values.direction not in DIRECTIONS:
        found.append(("direction", values.direction))
    return found


@dataclass(frozen=True, slots=True)
class AgentValues:
    """A checked /agents (or /callback-agents) item."""

    id: str
    name: str
    label: str
    description: str
    language: str
    direction: str
    current_status: str
    is_sandbox: bool
    created_at: datetime | None
    updated_at: datetime | None


def agent_values(item: Any) -> AgentValues:
    if not isinstance(item, dict):
        raise Rejected("agent is not a JSON object")
    no_nul_anywhere(item)
    return AgentValues(
        id=identifier(item.get("id"), "id"),
        name=text(item.get("name"), "name", 200),
        label=text(item.get("label"), "label", 200),
        description=text(item.get("description"), "description", 10000, multiline=True),
        language=text(item.get("language"), "language", 32),
        direction=word(item.get("direction"), "direction", WORD_MAX),
        current_status=word(item.get("current_status"), "current_status", WORD_MAX),
        is_sandbox=boolean(item.get("is_sandbox"), "is_sandbox"),
        created_at=moment(item.get("created_at"), "created_at"),
        updated_at=moment(item.get("updated_at"), "updated_at"),
    )


def callback_sources_of(callback: Any) -> list[str]:
    """The source agent ids of a /callback-agents item's `callback_config`."""
    if not isinstance(callback, dict):
        raise Rejected("callback agent is not a JSON object")
    no_nul_anywhere(callback)
    config = object_or_empty(callback.get("callback_config"), "callback_config")
    sources = config.get("source_agent_ids") or []
    if not isinstance(sources, list):
        raise Rejected("callback_config.source_agent_ids must be an array")
    return [identifier(s, "callback_config.source_agent_ids[]") for s in sources]


@dataclass(frozen=True, slots=True)
class SourceValues:
    source_agent_id: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class CallbackValues:
    """A checked day of /callback-agents/stats."""

    total_received: int
    answered: int
    unmatched: int
    sources: list[SourceValues]


def callback_values(data: Any) -> CallbackValues:
    if not isinstance(data, dict):
        raise Rejected("stats `data` is not a JSON object")
    no_nul_anywhere(data)
    totals = [integer(data.get(key), key, default=None, maximum=INT_MAX)
              for key in ("total_callbacks_received", "callbacks_answered",
                          "callbacks_unmatched")]
    listed = data.get("callbacks_by_source_agent")
    if listed is None:
        listed = []
    if not isinstance(listed, list):
        raise Rejected("callbacks_by_source_agent must be an array")
    sources = []
    for i, item in enumerate(listed):
        where = f"callbacks_by_source_agent[{i}]"
        if not isinstance(item, dict):
            raise Rejected(f"{where} is not a JSON object")
        sources.append(SourceValues(
            identifier(item.get("source_agent_id"), f"{where}.source_agent_id"),
            text(item.get("name"), f"{where}.name", 200),
            integer(item.get("count"), f"{where}.count", default=None)))
    return CallbackValues(*totals, sources=sources)
