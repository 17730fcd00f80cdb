"""A data subject's calls: every mirrored call of a number in an organisation (LGPD art. 18
II, GDPR art. 15), as JSON or a CSV table (`reports.exports.subject_rows`).

Found through the one search rule (`reports.call_search`: the trigram index on the numbers),
then kept only where a number *is* the subject's (normalised), never where it merely holds
its digits.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from portal.models import Organization
from portal.phone import national_digits, region_of_timezone, stored_e164
from reports.call_search import search_calls
from sync.models import Call
from sync.privacy.scrub import Subject

RECORDING_KEYS = ("call_recording_url", "recording_url")
CONTEXT_KEYS = ("context", "call_context")


def subject_calls(calls: QuerySet[Call], subject: Subject, organization: Organization
                  ) -> Iterator[Call]:
    """Of `calls` (the organisation's, through a tenant door), those from or to the subject's
    number, newest first."""
    region = region_of_timezone(organization.timezone)
    # By the national digits: a number stored without its country code is found too.
    calls = search_calls(calls, national_digits(subject.e164)[1])
    for call in (calls.select_related("environment", "agent").order_by("-started_at", "-id")
                 .iterator(chunk_size=500)):
        if subject.e164 in (stored_e164(call.from_number, region),
                            stored_e164(call.to_number, region)):
            yield call


def first_of(raw: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(raw, dict):
        return None
    return next((raw[k] for k in keys if raw.get(k) not in (None, "", {}, [])), None)


def call_json(call: Call, tz) -> dict[str, Any]:
    """One call as the export shows it, times in the organisation's zone (named)."""
    def local(moment):
        return moment.astimezone(tz).isoformat() if moment else None

    record = call.record
    return {
        "environment": {"id": call.environment_id, "name": call.environment.name},
        "id": call.external_id, "sid": call.sid, "agent_id": call.agent_external_id,
        "agent": call.agent.name if call.agent else "",
        "direction": call.direction, "status": call.status, "duration": call.duration,
        "from": call.from_number, "from_formatted": call.from_formatted,
        "to": call.to_number, "to_formatted": call.to_formatted,
        "started_at": local(call.started_at), "answered_at": local(call.answered_at),
        "ended_at": local(call.ended_at), "timezone": str(tz),
        "transcript": call.transcript,
        "recording_url": first_of(record, RECORDING_KEYS),
        "context": first_of(record, CONTEXT_KEYS),
        "record": record,
    }
