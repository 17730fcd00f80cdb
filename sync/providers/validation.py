"""The checks every upstream record goes through before it may be written: the one parser of
each kind of upstream field (text, identifier, integer, number, boolean, timestamp, object),
each with one rule.

Each provider's shape module (`talkover/shape.py`, `origins/shape.py`) states what its
records look like with these functions; a value that breaks the documented shape raises
`Rejected` naming the field and why, so the record is quarantined (`sync.quarantine`) and the
rest of the page goes on. Nothing is guessed, blanked or truncated here: a value either fits
its column as sent, or the record is rejected.
"""
from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

# Timestamps outside these bounds are rejected: pages, the admin and the compatible API
# format them, and years such as 9999 (or 0001) with an offset overflow on conversion to UTC.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Integer columns are PostgreSQL `integer` (PositiveIntegerField): at most 2^31 - 1.
INT_MAX = 2**31 - 1
# Longest upstream identifier a column holds; longer is a rejection, never a cut.
ID_MAX = 255
# C0 controls and DEL; tab, newline and carriage return are allowed in free text only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_SPACING = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Rejected(ValueError):
    """A record we cannot store as sent: quarantined with this message, never a crash."""


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"a string of {len(value)} characters" if len(value) > 40 else repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value}" if abs(value) < 10**15 else f"an integer of {len(str(abs(value)))} digits"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__.replace('dict', 'object').replace('list', 'array')}"


def text(value: Any, field: str, limit: int, *, required: bool = False,
         multiline: bool = False) -> str:
    """A string that fits `limit` characters, without NUL or control characters.

    None (and, unless required, "") is "". Numbers are not silently turned into strings,
    except for identifiers (see `identifier`).
    """
    if value is None or value == "":
        if required:
            raise Rejected(f"{field} is missing")
        return ""
    if not isinstance(value, str):
        raise Rejected(f"{field} must be a string, got {_describe(value)}")
    if len(value) > limit:
        raise Rejected(f"{field} is {len(value)} characters long, more than {limit}")
    if (_CONTROL_BUT_SPACING if multiline else _CONTROL).search(value):
        raise Rejected(f"{field} contains a NUL or control character")
    return value


def reported_text(value: Any, limit: int) -> str:
    """A value the vendor does not document (e.g. `call_insights.sentiment`), read when it is
    a plain string that fits `limit`; anything else is "" (not reported). Never cut: a cut
    value would be a guess, and a field nobody documents cannot make a record a rejection."""
    if not isinstance(value, str) or len(value) > limit or _CONTROL.search(value):
        return ""
    return value


def identifier(value: Any, field: str, *, required: bool = True) -> str:
    """An upstream id: a string (or integer) of at most ID_MAX characters."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return text(value, field, ID_MAX, required=required)


def integer(value: Any, field: str, *, minimum: int = 0, maximum: int = INT_MAX,
            default: int | None = 0) -> int:
    """A JSON integer within [minimum, maximum]; null is `default` (or a rejection)."""
    if value is None:
        if default is None:
            raise Rejected(f"{field} is missing")
        return default
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected(f"{field} must be an integer, got {_describe(value)}")
    if not minimum <= value <= maximum:
        raise Rejected(f"{field} is {_describe(value)}, outside {minimum}..{maximum}")
    return value


def number(value: Any, field: str, *, maximum: float = INT_MAX) -> float | None:
    """A finite non-negative JSON number up to `maximum`; null is None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected(f"{field} must be a number, got {_describe(value)}")
    if not math.isfinite(value) or not 0 <= value <= maximum:
        raise Rejected(f"{field} is {value!r}, outside 0..{maximum:g}")
    return float(value)


def boolean(value: Any, field: str) -> bool:
    """true/false, or the strings "true"/"false" as some APIs send them; null is false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Rejected(f"{field} must be a boolean, got {_describe(value)}")


def word(value: Any, field: str, limit: int) -> str:
    """An enumerated value (status, direction) kept as sent: a short plain string.

    Whether it is one of the documented values is the caller's to note, never to blank.
    """
    return text(value, field, limit)


def moment(value: Any, field: str, *, required: bool = False) -> datetime | None:
    """An aware datetime (naive is UTC) from ISO 8601, between 2000 and 2100, fraction kept."""
    if value is None or value == "":
        if required:
            raise Rejected(f"{field} is missing")
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise Rejected(f"{field} must be an ISO 8601 timestamp, got {_describe(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise Rejected(f"{field} is not a timestamp: {_describe(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # The year first: converting year 1 or 9999 with an offset to UTC overflows.
    if not EARLIEST.year <= parsed.year < LATEST.year or not EARLIEST <= parsed < LATEST:
        raise Rejected(f"{field} {value!r} is outside 2000..2100")
    return parsed


def object_or_empty(value: Any, field: str) -> dict[str, Any]:
    """A JSON object, or {} for null."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(f"{field} must be an object, got {_describe(value)}")
    return value


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in a JSON value (PostgreSQL cannot store it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def no_nul_anywhere(value: Any, canonical_text: str | None = None) -> None:
    """Reject a record with a NUL in any string, nested ones included.

    `canonical_text` (the record's JSON with ASCII escapes) makes the common case one
    substring test: without a "\\u0000" in it, no string can hold a NUL.
    """
    if canonical_text is not None and "\\u0000" not in canonical_text:
        return
    if has_nul(value):
        raise Rejected("a string contains a NUL character")
