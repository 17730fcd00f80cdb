"""The member's language, as the language field of a summary or an alert rule stores it.

New summaries and alert rules are written for the member who creates them: a Portuguese
reader gets Portuguese emails unless they choose otherwise.
"""
from __future__ import annotations

from django.utils.translation import get_language

ENGLISH, PORTUGUESE = "en", "pt-br"


def member_language() -> str:
    """The language the portal is being read in ("en" or "pt-br")."""
    return PORTUGUESE if (get_language() or "").lower().startswith("pt") else ENGLISH
