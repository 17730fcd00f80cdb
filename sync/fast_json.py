"""JSON for the sync's hot path: orjson where its output is the standard library's, byte for
byte, and the standard library everywhere else.

Why: serialising each call canonically (for its digest and the text COPY writes) and parsing
each page were the largest Python costs of a back-fill after the database. The digests
stored in the mirror were made by `json.dumps(sort_keys=True, separators=(",", ":"),
default=str)`; a different text would make every mirrored record look changed once. orjson
agrees with that text when the value (an object or array) holds no float (their number
formats differ) and no non-JSON type, once what the standard library escapes and orjson
does not (DEL, anything outside ASCII) is escaped as it does: only then is its text used.
"""
from __future__ import annotations

import json
import re
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; without it the standard library serves
    orjson = None

_OPTIONS = 0 if orjson is None else (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _has_float(value: Any) -> bool:
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list) and _has_float(item)):
            return True
    return False


# What the standard library escapes and orjson writes as it is: DEL and everything outside
# ASCII. JSON's own syntax is ASCII, so these only ever occur inside strings.
_ESCAPED = re.compile("[\x7f-\U0010ffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as the standard library writes it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _ascii_escaped(text: str) -> str:
    """JSON text with DEL and everything outside ASCII escaped as the standard library does.

    The codec's own escapes (`\\xNN`, `\\uNNNN`) are JSON's once `\\x` reads `\\u00`, in C and
    twice as fast as a callback per character, when the text has no backslash of its own (an
    escape in a string could end in an `x`) and nothing beyond the BMP (a surrogate pair,
    `\\UNNNNNNNN` to the codec); otherwise each character is escaped by `_escape`."""
    if "\\" not in text and "\x7f" not in text:
        escaped = text.encode("ascii", "backslashreplace")
        if b"\\U" not in escaped:
            return escaped.replace(b"\\x", b"\\u00").decode("ascii")
    return _ESCAPED.sub(_escape, text)


def canonical_text(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)`, faster."""
    if orjson is not None and type(value) in (dict, list) and not _has_float(value):
        try:
            raw = orjson.dumps(value, default=_refuse, option=_OPTIONS)
        except TypeError:
            raw = b""
        if raw:
            text = raw.decode()
            if text.isascii() and "\x7f" not in text:
                return text
            return _ascii_escaped(text)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def json_text(value: Any) -> str:
    """Some JSON text of `value` (keys in their order, UTF-8 as it is): what storing a value
    needs when no digest is made of its text. orjson, or the standard library for what it
    cannot write (an integer beyond 64 bits, a non-JSON type: `default=str` as above)."""
    if orjson is not None:
        try:
            return orjson.dumps(value, default=_refuse).decode()
        except TypeError:
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# 19 digits in a row may be an integer beyond 64 bits, which orjson would read as a float.
# Found by mapping every digit to "9" and the rest to a space (a regex took 10x as long).
_DIGITS_ONLY = bytes(0x39 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"9" * 19


def loads(body: bytes) -> Any:
    """`json.loads(body)`, faster; what orjson refuses (NaN) or might read otherwise goes to
    the standard library, which raises ValueError for what is not JSON at all.

    "Otherwise" is an integer beyond 64 bits, which orjson reads as a float: only a body
    with a run of 19 digits can hold one, and only if orjson's value holds a float. A run
    inside a string (a SID of 32 hex characters has one in about 500) keeps orjson's value:
    the standard library took a sixth of the pages of a back-fill, at three times the cost.
    """
    if orjson is not None:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return json.loads(body)
        if _LONG_NUMBER not in body.translate(_DIGITS_ONLY) or not _has_float([value]):
            return value
    return json.loads(body)
