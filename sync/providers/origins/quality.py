"""Voice-quality columns of an Origins call record (pure functions, no queries).

Which fields, and why (the vendor documents `stt_data`, `llm_data` and `tts_data` only as
lists of objects, `call_quality` and `call_insights` only as objects):

- `latency_ms`: the call's voice-to-voice response time, the sum of the three stages'
  `latency_ms` — each stage the mean over the entries of `stt_data`, `llm_data` and
  `tts_data` that carry a number there. When the three stages do not all report it, the
  record's own `call_quality.avg_latency_ms` is used; otherwise the call has no latency
  (reports say "not reported").
- `sentiment`: `call_insights.sentiment`; `insight`: `call_insights.intent` (as sent when a
  plain string that fits the column, else not reported: `validation.reported_text`).
- `transcript`: the turns of `call_transcription` as "role: text" lines, for full-text search.

Billed time, hang-up cause and source have their own columns (see `records.py`).
"""
from __future__ import annotations

from typing import Any

from sync.providers.validation import reported_text

QUALITY_FIELDS = ["transcript", "latency_ms", "sentiment", "insight"]
STAGES = ("stt_data", "llm_data", "tts_data")
# A latency above this is not a response time (a unit mix-up, a stuck stage): not reported.
MAX_LATENCY_MS = 600_000
# A transcript longer than this is cut for the search column (the whole record stays in raw).
TRANSCRIPT_LIMIT = 200_000


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= MAX_LATENCY_MS else None


def stage_latency(entries: Any) -> float | None:
    """Mean `latency_ms` of a stage's entries that report one, else None."""
    if not isinstance(entries, list):
        return None
    values = [v for e in entries if isinstance(e, dict)
              if (v := _number(e.get("latency_ms"))) is not None]
    return sum(values) / len(values) if values else None


def call_latency(item: dict[str, Any]) -> int | None:
    """The call's response latency in milliseconds (see the module docstring), or None."""
    stages = [stage_latency(item.get(name)) for name in STAGES]
    if all(s is not None for s in stages):
        total = sum(s for s in stages if s is not None)
        return round(total) if total <= MAX_LATENCY_MS else None
    quality = item.get("call_quality")
    if isinstance(quality, dict):
        value = _number(quality.get("avg_latency_ms"))
        return round(value) if value is not None else None
    return None


def transcript_text(item: dict[str, Any]) -> str:
    """The transcript as "role: text" lines ("" when there is none)."""
    turns = item.get("call_transcription")
    if not isinstance(turns, list):
        return ""
    lines = []
    for turn in turns:
        if isinstance(turn, dict):
            speaker = turn.get("role") or turn.get("speaker") or ""
            said = turn.get("text") or turn.get("content") or ""
            if said:
                lines.append(f"{speaker}: {said}" if speaker else str(said))
        elif isinstance(turn, str) and turn:
            lines.append(turn)
    # NUL cannot be stored in a PostgreSQL text column.
    return "\n".join(lines).replace("\x00", "")[:TRANSCRIPT_LIMIT]


def quality_columns(item: dict[str, Any]) -> dict[str, Any]:
    """The Call columns of QUALITY_FIELDS from one record."""
    insights = item.get("call_insights")
    insights = insights if isinstance(insights, dict) else {}
    sentiment, intent = insights.get("sentiment"), insights.get("intent")
    return {
        "transcript": transcript_text(item),
        "latency_ms": call_latency(item),
        "sentiment": reported_text(sentiment, 32),
        "insight": reported_text(intent, 64),
    }
