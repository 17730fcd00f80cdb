"""What Vapi has and lacks, for the portal, the reports and the admin (`portal.providers`).

Its calls carry their own cost (USD) and its breakdown, an ended reason, an analysis (summary,
success evaluation), start and end times, the customer's and our numbers (see
/work/shared/upstream/README.md §3 and `records.py`); no voice-quality fields we roll up, no
callback statistics. Its webhooks ("server messages") are signed triggers.
"""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.models import Provider
from portal.providers import ProviderSpec
from sync.providers.vapi.webhook import verify_signature

# Vapi does not document a request rate for its REST API: a conservative default for an
# environment whose own setting is left at its default (a deployment may change it:
# `VAPI_REQUESTS_PER_MINUTE`; an environment's own figure wins); a 429 is honoured as for any
# provider.
REQUESTS_PER_MINUTE = 60


def pace() -> int:
    """Requests a minute of a Vapi environment that sets none of its own."""
    return int(getattr(settings, "VAPI_REQUESTS_PER_MINUTE", REQUESTS_PER_MINUTE))


SPEC = ProviderSpec(
    key=Provider.VAPI, label="Vapi",
    not_sent=frozenset({"sid", "billed_duration", "hangup_source", "latency_ms",
                        "is_testing"}),
    # The mirror's words its calls can have (`records.STATUS_TABLE`).
    statuses=("queued", "ringing", "answered", "completed", "failed", "busy", "no-answer"),
    not_reported=_("not reported by Vapi"),
    webhooks=True, cost=True, transcripts=True,
    expected_form="https://api.vapi.ai",
    default_base_url="https://api.vapi.ai",
    personal_keys={"numbers": ("customer", "customers"),
                   "transcripts": ("messages", "artifact", "analysis"),
                   "recordings": ("recordingUrl", "stereoRecordingUrl")},
    verify_signature=verify_signature,
    call_page_fields=((_("Call type"), "type"), (_("Ended reason"), "endedReason"),
                      (_("Cost breakdown"), "costBreakdown")),
)
