"""How a call row, its raw record and any text lose a number (or a kind of personal data).

Kinds of personal data a call carries (the retention settings name the first three):

- `numbers`: the to/from numbers and their formatted forms (columns and `raw`), and with
  them the call's context objects (`context`, `call_context`, `tool_data`: what the
  upstream knew about the caller);
- `transcripts`: the `transcript` column, `raw`'s transcription and timeline, the words in
  the speech/LLM stages (`stt_data`, `llm_data`, `tts_data`: their timings stay, the quality
  report reads them) and the insights beyond sentiment and intent;
- `recordings`: recording URLs and ids.

An erased caller's calls lose all three (their numbers replaced by the caller's token, the
agent's own number kept); every other text that mentions the number has just the number
replaced (`scrub_value`). The call rows stay, with every column a report counts, so reports
keep their totals.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.phone import number_regex, stored_e164
from portal.providers import registered
from sync.privacy.keys import number_hash, token_of
from sync.stored_record import all_attnames

NUMBERS, TRANSCRIPTS, RECORDINGS = "numbers", "transcripts", "recordings"
KINDS = (TRANSCRIPTS, RECORDINGS, NUMBERS)
ALL_KINDS = frozenset(KINDS)

# (number, its formatted form) in the columns and in the raw records of both providers.
NUMBER_COLUMNS = (("to_number", "to_formatted"), ("from_number", "from_formatted"))
RAW_NUMBER_PAIRS = (("to", "to_formatted"), ("from", "from_formatted"),
                    ("to_number", None), ("from_number", None))
CONTEXT_KEYS = ("context", "call_context", "tool_data")
TRANSCRIPT_KEYS = ("call_transcription", "transcript", "transcription", "call_timeline")
STAGE_KEYS = ("stt_data", "llm_data", "tts_data")
INSIGHT_KEYS = ("call_insights",)
KEPT_INSIGHTS = ("sentiment", "intent")
RECORDING_KEYS = ("call_recording_url", "recording_url", "recording_id")
# The columns of a call this module may rewrite (and the erasure and retention update).
CALL_COLUMNS = ("to_number", "to_formatted", "from_number", "from_formatted", "transcript")
# What a rewrite of a call row reads: its start, the columns above and those its stored record
# is rebuilt from (`sync.stored_record`: `raw` may hold only what the columns do not).
ROW_COLUMNS = ("started_at", *CALL_COLUMNS)


def row_columns() -> tuple[str, ...]:
    """`ROW_COLUMNS` and every column a stored record is rebuilt from."""
    return tuple(dict.fromkeys((*ROW_COLUMNS, *all_attnames())))


def _declared(kind: str) -> tuple[str, ...]:
    """The raw keys of `kind` a provider declares beyond the shared ones
    (`ProviderSpec.personal_keys`)."""
    return tuple(dict.fromkeys(key for spec in registered().values()
                               for key in spec.personal_keys.get(kind, ())))


@dataclass(frozen=True)
class Subject:
    """One erased number: its E.164 form (in memory only), hash, token and pattern."""

    e164: str
    hashed: str
    token: str
    regex: re.Pattern[str]

    @classmethod
    def of(cls, e164: str) -> Subject:
        hashed = number_hash(e164)
        return cls(e164, hashed, token_of(hashed), number_regex(e164))

    def holds(self, value: Any, region: str | None = None) -> bool:
        """Whether a stored number (or formatted number) is this one."""
        if not isinstance(value, str) or not value:
            return False
        return stored_e164(value, region) == self.e164 or bool(self.regex.search(value))


def scrub_text(text: str, subjects: list[Subject]) -> str:
    for subject in subjects:
        text = subject.regex.sub(subject.token, text)
    return text


def scrub_value(value: Any, subjects: list[Subject]) -> Any:
    """A JSON value with every mention of the subjects' numbers replaced by their tokens."""
    if isinstance(value, str):
        return scrub_text(value, subjects)
    if isinstance(value, list):
        return [scrub_value(v, subjects) for v in value]
    if isinstance(value, dict):
        return {scrub_text(k, subjects) if isinstance(k, str) else k: scrub_value(v, subjects)
                for k, v in value.items()}
    return value


def retention_token(value: str, region: str | None) -> str:
    """What a number reads as once numbers aged out: its own keyed token (still one per
    number, so a caller's calls stay together), or the blank it was."""
    if not value or value.startswith("erased:"):
        return value
    return token_of(number_hash(stored_e164(value, region) or value))


def strip_call(columns: dict[str, Any], raw: Any, kinds: frozenset[str],
               tokenise: Callable[[str], str]) -> tuple[dict[str, Any], Any]:
    """The call's columns (`CALL_COLUMNS` it has) and raw record without `kinds`; numbers go
    through `tokenise` (which keeps a number it does not anonymise), their formatted forms
    follow their number."""
    columns = dict(columns)
    if NUMBERS in kinds:
        for number, formatted in NUMBER_COLUMNS:
            _pair(columns, number, formatted, tokenise)
    if TRANSCRIPTS in kinds and columns.get("transcript"):
        columns["transcript"] = ""
    if isinstance(raw, dict):
        raw = dict(raw)
        if NUMBERS in kinds:
            for number, formatted in RAW_NUMBER_PAIRS:
                _pair(raw, number, formatted, tokenise)
            _clear(raw, CONTEXT_KEYS + _declared(NUMBERS))
        if TRANSCRIPTS in kinds:
            _clear(raw, TRANSCRIPT_KEYS + _declared(TRANSCRIPTS))
            for key in STAGE_KEYS:
                if key in raw:
                    raw[key] = _timings(raw[key])
            for key in INSIGHT_KEYS:
                if isinstance(raw.get(key), dict):
                    raw[key] = {k: v for k, v in raw[key].items() if k in KEPT_INSIGHTS}
        if RECORDINGS in kinds:
            _clear(raw, RECORDING_KEYS + _declared(RECORDINGS))
    return columns, raw


def erase_call(columns: dict[str, Any], raw: Any, subject: Subject, region: str | None
               ) -> tuple[dict[str, Any], Any]:
    """An erased caller's call: every kind stripped, the caller's number replaced by the
    token (the agent's own number kept), then any other mention of it in the record."""
    def tokenise(value: str) -> str:
        return subject.token if subject.holds(value, region) else value

    columns, raw = strip_call(columns, raw, ALL_KINDS, tokenise)
    subjects = [subject]
    columns = {k: scrub_text(v, subjects) if isinstance(v, str) else v
               for k, v in columns.items()}
    return columns, scrub_value(raw, subjects)


def _pair(values: dict[str, Any], number: str, formatted: str | None,
          tokenise: Callable[[str], str]) -> None:
    value = values.get(number)
    if not isinstance(value, str) or not value:
        return
    token = tokenise(value)
    if token == value:
        return
    values[number] = token
    if formatted and isinstance(values.get(formatted), str) and values[formatted]:
        values[formatted] = token


def _clear(values: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Empty each key, keeping its type's shape (a list stays a list) so readers still work."""
    for key in keys:
        if key not in values or values[key] in (None, "", [], {}):
            continue
        old = values[key]
        values[key] = [] if isinstance(old, list) else {} if isinstance(old, dict) \
            else "" if isinstance(old, str) else None


def _timings(stage: Any) -> Any:
    """A speech/LLM stage's entries with only their numbers (latencies, durations)."""
    if isinstance(stage, list):
        return [_timings(entry) for entry in stage if isinstance(entry, dict | list)]
    if isinstance(stage, dict):
        return {k: v for k, v in stage.items()
                if isinstance(v, int | float) and not isinstance(v, bool)}
    return None
