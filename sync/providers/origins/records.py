"""Turn Origins AI call records into Call rows (pure functions, no queries).

The whole record is kept in `raw` (transcript, quality, insights, timeline, tool data, costs);
the columns below are what reports filter and aggregate on, shared with Talkover calls.

The analysis (`sync.analysis`) comes from `call_insights` (an object the vendor documents no
keys of: these are read, the rest kept in `raw`): `summary`, the success judgement
`call_successful` (a boolean, or a rubric's score), and every other insight (sentiment,
intent, …) as the extracted fields; a call was transferred when its hang-up cause says so
(`TRANSFER_CAUSES`, FreeSWITCH's names). Origins sends nothing about voicemail (its spec).
"""
from __future__ import annotations

from typing import Any

from portal.models import Environment
from sync.analysis import ANALYSIS_FIELDS, Analysis
from sync.models.core import CallStatus, Direction
from sync.providers.origins.quality import QUALITY_FIELDS, quality_columns
from sync.providers.origins.shape import check_record
from sync.providers.records import CALL_UPDATE_FIELDS, Rejected
from sync.write.upsert import CanonicalJSON, canonical

# The analytic status of an Origins call, from its `call_status` and `hangup_cause_name`:
# the one table the sync, the reports and docs/operations.md ("Origins AI: memory and statuses")
# follow.
# Keys are (call_status, hangup cause); ANY_CAUSE matches any cause, none included, after the
# exact pairs. ANSWERED means the call connected: with `end_time` set it is `completed`,
# without it the call is still talking and is `answered` (answered, in progress). A FAILED
# call that met a busy line or was not picked up says so in its hang-up cause (FreeSWITCH
# cause names, as Origins sends them). The words as sent stay in `provider_status` and
# `hangup_cause`; a status or cause outside this table is kept as sent and noted on the run.
ANY_CAUSE = "*"
ORIGINS_STATUS_TABLE: dict[tuple[str, str], str] = {
    ("ANSWERED", ANY_CAUSE): CallStatus.COMPLETED,  # `answered` while end_time is null
    ("FAILED", "USER_BUSY"): CallStatus.BUSY,
    ("FAILED", "NO_ANSWER"): CallStatus.NO_ANSWER,
    ("FAILED", ANY_CAUSE): CallStatus.FAILED,
    ("INITIATED", ANY_CAUSE): CallStatus.INITIATED,
    ("QUEUED", ANY_CAUSE): CallStatus.QUEUED,
}
# Hang-up causes the table knows (those it names, and the ones that mean "failed" or a normal
# end); any other cause is kept and noted once per run.
# The hang-up causes of a call the agent handed on (FreeSWITCH's names).
TRANSFER_CAUSES = frozenset({"ATTENDED_TRANSFER", "BLIND_TRANSFER"})
KNOWN_HANGUP_CAUSES = frozenset({
    "NORMAL_CLEARING", "USER_BUSY", "NO_ANSWER", "CALL_REJECTED", "UNALLOCATED_NUMBER",
    "NORMAL_TEMPORARY_FAILURE", *TRANSFER_CAUSES,
})
# The `call_insights` keys that are the summary and the judgement, not extracted fields.
SUMMARY_KEY, SUCCESS_KEY = "summary", "call_successful"
_KNOWN_STATUSES = frozenset(word for word, _ in ORIGINS_STATUS_TABLE)

ORIGINS_CALL_UPDATE_FIELDS = CALL_UPDATE_FIELDS + [
    "billed_duration", "answered_at", "ended_at", "hangup_cause", "hangup_source",
    *QUALITY_FIELDS, *ANALYSIS_FIELDS,
]
_DIRECTIONS = set(Direction.values)


def origins_status(item: dict[str, Any]) -> str:
    """The analytic status of a record (see ORIGINS_STATUS_TABLE).

    A word outside the table is kept as sent (never blanked): reports count it as "other".
    """
    word = item.get("call_status")
    if not isinstance(word, str):
        return ""
    cause = item.get("hangup_cause_name")
    status = ORIGINS_STATUS_TABLE.get((word, cause)) if isinstance(cause, str) else None
    if status is None:
        status = ORIGINS_STATUS_TABLE.get((word, ANY_CAUSE), word)
    if status == CallStatus.COMPLETED and not item.get("end_time"):
        return CallStatus.ANSWERED
    return status


def unknown_values(item: Any) -> list[str]:
    """`field=value` for each value of a record outside the documented sets (kept as sent).

    Only plain short strings count: any other value makes the record a rejection
    (`origins.shape`), and must not reach the run's notes (a NUL cannot be stored there).
    """
    if not isinstance(item, dict):
        return []
    found = []
    for name, known in (("call_status", _KNOWN_STATUSES),
                        ("hangup_cause_name", KNOWN_HANGUP_CAUSES),
                        ("call_direction", _DIRECTIONS)):
        value = item.get(name)
        if _plain(value) and value not in known:
            found.append(f"{name}={value!r}")
    return found


def _plain(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable()


def call_key(item: Any) -> str:
    """The Call `external_id` a record would be stored under ("" when it has none)."""
    if isinstance(item, dict) and isinstance(item.get("call_id"), str | int):
        return str(item["call_id"])
    return ""


def origins_analysis(item: dict[str, Any], hangup_cause: str) -> Analysis:
    """The call's analysis from `call_insights` (checked by `shape.check_record`)."""
    insights = item.get("call_insights") or {}
    summary = insights.get(SUMMARY_KEY)
    return Analysis(summary=summary if isinstance(summary, str) else "",
                    success=insights.get(SUCCESS_KEY),
                    fields={k: v for k, v in insights.items()
                            if k not in (SUMMARY_KEY, SUCCESS_KEY)},
                    transferred=hangup_cause in TRANSFER_CAUSES)


def origins_call(env: Environment, item: Any, agent_id: int, agent_pk: int | None,
                 raw: CanonicalJSON | None = None,
                 threshold: float | None = None) -> dict[str, Any]:
    """A Call row (attnames → values) from one call_stats record of `agent_id`.

    `started_at` is `initiation_time`; a call still queued has none, so its queue time (the
    first state change) stands in. `duration` is `call_duration` rounded to whole seconds
    (the column Talkover fills); `billed_duration` keeps the vendor's number. `raw` is the
    record's canonical JSON when the caller already made it; `threshold` the organisation's
    success threshold for the agent (`sync.analysis`). Raises Rejected for a record
    that breaks the documented shape (`origins.shape`) or has no start time at all.
    """
    raw = raw or canonical(item)
    v = check_record(item, raw.text)
    started = v.initiation_time or v.queued_at
    if started is None:
        raise Rejected("no initiation_time or queue time")
    direction = v.direction or Direction.INBOUND  # the vendor's default
    talk = v.call_duration
    return {
        "environment_id": env.pk, "external_id": v.call_id,
        "agent_id": agent_pk, "agent_external_id": str(agent_id),
        "to_number": v.to_number, "from_number": v.from_number,
        "direction": direction,
        "status": origins_status(item), "provider_status": v.call_status,
        "duration": int(talk + 0.5) if talk is not None else 0,
        "billed_duration": v.billed_duration,
        "started_at": started, "answered_at": v.answer_time, "ended_at": v.end_time,
        "hangup_cause": v.hangup_cause, "hangup_source": v.hangup_source,
        **quality_columns(item),
        **origins_analysis(item, v.hangup_cause).columns(threshold),
        "raw": raw, "payload_hash": raw.digest,
    }
