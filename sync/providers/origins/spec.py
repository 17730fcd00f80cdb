"""What Origins AI has and lacks, for the portal, the reports and the admin
(`portal.providers`): agent ids to name (its agents cannot be listed), the whole history on
every read, voice-quality fields, no default address; every call field is sent but
voicemail (nothing in its records says a call met one)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.models import Provider
from portal.providers import ProviderSpec


def parse_agent_id(text: str) -> int:
    """An agent id as Origins AI names them: a whole number ("12" → 12)."""
    if not text.strip().isdigit():
        raise ValueError(_("“%(part)s” is not an agent id; give whole numbers separated by "
                           "commas.") % {"part": text})
    return int(text)


SPEC = ProviderSpec(
    key=Provider.ORIGINS, label="Origins AI",
    # Talkover's words and `queued` (`ORIGINS_STATUS_TABLE` in records.py).
    statuses=("initiated", "ringing", "answered", "completed", "failed", "busy", "no-answer",
              "queued"),
    agent_ids=True, parse_agent_id=parse_agent_id, quality=True, whole_history=True,
    base_url_required=True,
    transcripts=True,
    not_sent=frozenset({"voicemail"}),
    not_reported=_("not reported by Origins AI"),
    accepted_suffixes=("/api",), expected_form="https://your-origins-host (or …/api)",
)
