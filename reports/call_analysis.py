"""The call page's analysis section: the vendor's summary, its success judgement (normalised,
with the value as sent) and the fields it extracted, each under a label for people (never a
raw key). Nothing for a provider whose spec says it sends no judgement."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from sync.models import Call
from sync.models.core import Judgement

_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@dataclass(frozen=True)
class CallAnalysis:
    summary: str
    judgement: str  # a `Judgement` value
    judgement_label: str
    raw: str  # the vendor's value as sent ("" when none)
    score: float | None
    fields: list[tuple[str, str]]


def label_of(key: str) -> str:
    """A field's key as people read it: "appointmentBooked", "follow_up" → "Appointment
    booked", "Follow up"."""
    words = _WORDS.findall(str(key)) or [str(key)]
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def value_of(value: Any) -> str:
    """A field's value as people read it."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None or value == "":
        return "–"
    if isinstance(value, list):
        return ", ".join(value_of(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{label_of(k)}: {value_of(v)}" for k, v in value.items())
    return str(value)


def call_analysis(call: Call, not_sent: frozenset[str]) -> CallAnalysis | None:
    """The section's content, None when the call's provider sends no judgement."""
    if "judgement" in not_sent:
        return None
    fields = call.analysis_fields if isinstance(call.analysis_fields, dict) else {}
    return CallAnalysis(
        summary=call.summary, judgement=call.judgement,
        judgement_label=str(Judgement(call.judgement).label), raw=call.judgement_raw,
        score=call.judgement_score,
        fields=[(label_of(k), value_of(v)) for k, v in fields.items()])
