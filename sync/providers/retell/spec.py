"""What Retell AI has and lacks, for the portal, the reports and the admin (`portal.providers`).

Its calls carry their own cost (`call_cost.combined_cost`, cents), a disconnection reason, a
post-call analysis (summary, success, sentiment, custom data), start and end times in
milliseconds and both numbers of a phone call (docs/providers.md, "Retell AI"); no
voice-quality fields we roll up, no callback statistics. Its webhooks are signed with the
account's API key and are triggers.
"""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.models import Provider
from portal.providers import ProviderSpec
from sync.providers.retell.webhook import verify_signature

# Retell documents concurrency limits, not a request rate for its REST API: a conservative
# default while the environment's own setting is left at its default
# (`RETELL_REQUESTS_PER_MINUTE`); a 429 is honoured as for any provider.
REQUESTS_PER_MINUTE = 60


def pace() -> int:
    """Requests a minute of a Retell environment that sets none of its own."""
    return int(getattr(settings, "RETELL_REQUESTS_PER_MINUTE", REQUESTS_PER_MINUTE))


SPEC = ProviderSpec(
    key=Provider.RETELL, label="Retell AI",
    not_sent=frozenset({"sid", "billed_duration", "hangup_source", "latency_ms",
                        "is_testing"}),
    # The mirror's words its calls can have (`records.status_of`).
    statuses=("queued", "answered", "completed", "failed", "busy", "no-answer"),
    not_reported=_("not reported by Retell AI"),
    webhooks=True, cost=True, transcripts=True,
    expected_form="https://api.retellai.com",
    default_base_url="https://api.retellai.com",
    # Its `from_number` and `to_number` are the shared number keys every record's numbers go
    # through (tokenised, not emptied: `sync.privacy.scrub.RAW_NUMBER_PAIRS`).
    personal_keys={"transcripts": ("transcript", "transcript_object", "call_analysis"),
                   "recordings": ("recording_url",)},
    verify_signature=verify_signature,
    # Retell signs with the workspace's API key (the one with the webhook badge): no secret
    # of ours to make or show.
    webhook_secret=lambda environment: environment.get_token(),
    webhook_secret_words=_("the Retell AI API key with the webhook badge (this environment's "
                           "token)"),
    call_page_fields=((_("Call type"), "call_type"),
                      (_("Disconnection reason"), "disconnection_reason"),
                      (_("Caller sentiment"), "call_analysis.user_sentiment")),
)
