"""What Talkover has and lacks, for the portal, the reports and the admin (`portal.providers`).

Its call records carry ids, numbers, direction, status, duration and two instants (see
/work/shared/upstream/README.md §1 and `records.py`): no answer or end time, no billed
duration, no hang-up cause, no transcript, recording or latency, no analysis of the call (no
summary, success judgement or extracted fields), no transfer or voicemail.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.models import Provider
from portal.providers import ProviderSpec
from sync.providers.talkover.webhook import verify_signature

SPEC = ProviderSpec(
    key=Provider.TALKOVER, label="Talkover",
    not_sent=frozenset({"answered_at", "ended_at", "billed_duration", "hangup_cause",
                        "transcript", "recording", "latency_ms", "summary", "judgement",
                        "analysis_fields", "transferred", "voicemail"}),
    not_reported=_("not reported by Talkover"),
    # Talkover's documented statuses.
    statuses=("initiated", "ringing", "answered", "completed", "failed", "busy", "no-answer"),
    webhooks=True, registers_webhooks=True, callback_stats=True,
    # A record's keys but the agent's name and label are columns too (`sync.stored_record`).
    stored_form="talkover/2",
    api_prefix="/api/v1", accepted_suffixes=("/api/v1", "/api"),
    expected_form="https://app.talkover.ai (or …/api/v1)",
    default_base_url="https://app.talkover.ai/api/v1",
    compatible_api=True,
    verify_signature=verify_signature,
)
