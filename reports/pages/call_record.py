"""The parts of a call's upstream record the call page shows as sections (timeline, quality,
insights), written for people: every time in the page's one zone, keys as labels ("MOS",
"Jitter"), units said ("13.2 ms"), numbers in the language's format, nothing null shown.

The record's shape is the vendor's and may be anything (every field may be null): a value
this module cannot read is shown as sent, never dropped and never a 500.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.durations import format_duration
from portal.formatting import format_moment, format_number
from sync.models.core import CallStatus

# Labels of the keys vendors use for voice quality and insights; any other key is written
# from its own words ("call_score" → "Call score").
LABELS = {
    "mos": gettext_lazy("MOS"),
    "avg_latency_ms": gettext_lazy("Average latency"),
    "latency_ms": gettext_lazy("Latency"),
    "jitter_ms": gettext_lazy("Jitter"),
    "packet_loss_pct": gettext_lazy("Packet loss"),
    "sentiment": gettext_lazy("Sentiment"),
    "intent": gettext_lazy("Intent"),
    "summary": gettext_lazy("Summary"),
}
# A key's ending that names its unit: the unit written after the value.
UNITS = (("_ms", " ms"), ("_pct", "%"), ("_seconds", " s"), ("_s", " s"))
# Words a vendor sends as values, in the reader's language (others as sent).
WORDS = {
    "positive": gettext_lazy("positive"),
    "neutral": gettext_lazy("neutral"),
    "negative": gettext_lazy("negative"),
    "hangup": gettext_lazy("Hung up"),
}
# Keys of a timeline entry that hold what happened, and those of a change's two states.
EVENT_KEYS = ("event", "type", "name", "status", "state", "to")
TIME_KEYS = ("timestamp", "at", "time", "ts")


@dataclass(frozen=True)
class Event:
    at: str  # "" when the entry has no time
    what: str


def _words(key: str) -> str:
    """A key people can read: "packet_loss_pct" → "Packet loss"."""
    for ending, _unit in UNITS:
        if key.endswith(ending):
            key = key[: -len(ending)]
            break
    words = re.sub(r"[_\-]+", " ", key).strip()
    return words[:1].upper() + words[1:]


def label(key: str) -> str:
    return str(LABELS.get(key.lower(), "")) or _words(key)


def _number(value: float | int) -> str:
    places = 0 if isinstance(value, int) else min(2, len(repr(value).split(".")[-1]))
    return format_number(value, places)


def value_text(key: str, value: object) -> str:
    """A value as written for people: numbers in the language's format with the key's unit,
    known words translated, anything else as sent."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        unit = next((u for ending, u in UNITS if key.lower().endswith(ending)), "")
        return f"{_number(value)}{unit}"
    if isinstance(value, str):
        moment = _moment(value)
        if moment is not None:
            return format_moment(moment)
        return str(WORDS.get(value.lower(), value))
    return str(value)


def fields(record: object) -> list[tuple[str, str]]:
    """(label, value) of an object of the record (quality, insights), nulls left out."""
    if not isinstance(record, dict):
        return []
    return [(label(str(k)), value_text(str(k), v)) for k, v in record.items()
            if v is not None and v != "" and v != [] and v != {}]


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _state(value: object) -> str:
    """A state or event word: the mirror's status label when it is one, else as sent."""
    word = str(value)
    try:
        return str(CallStatus(word.lower()).label)
    except ValueError:
        known = WORDS.get(word.lower())
        return str(known) if known else _words(word.lower())


def timeline(entries: object) -> list[Event]:
    """The record's timeline or state changes, in their order as sent: the first entry's
    time in the active zone, each later one's seconds after it ("+ 8 s": a short date and
    time has no seconds, and a call's events are seconds apart), and what happened ("Queued
    → Initiated", "Answered"); a change's null "from" (the first state) is left out."""
    if not isinstance(entries, list):
        return []
    events, first = [], None
    for entry in entries:
        if not isinstance(entry, dict):
            events.append(Event("", str(entry)))
            continue
        at = next((m for k in TIME_KEYS if (m := _moment(entry.get(k))) is not None), None)
        event = next((entry[k] for k in EVENT_KEYS if entry.get(k) not in (None, "")), None)
        what = _state(event) if event is not None else ""
        if entry.get("from") not in (None, "") and entry.get("to") not in (None, ""):
            what = f"{_state(entry['from'])} → {_state(entry['to'])}"
        used = {*TIME_KEYS, *EVENT_KEYS, "from"}
        rest = [f"{label(str(k))}: {value_text(str(k), v)}" for k, v in entry.items()
                if k not in used and v not in (None, "")]
        when = ""
        if at is not None and first is not None and at >= first:
            when = "+ " + format_duration((at - first).total_seconds())
        elif at is not None:  # the first, or one sent before it
            first, when = first or at, format_moment(at)
        events.append(Event(when, " · ".join([what, *rest] if what else rest)))
    return events
