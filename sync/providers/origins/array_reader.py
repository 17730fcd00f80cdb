"""The records of a JSON array read one at a time, each within a size cap.

Origins answers an agent's whole history as one array, so a single record is as large as the
upstream makes it: one string that inflates to 1 GiB held a sync for minutes at 500+ MiB when
a streaming parser (ijson) built it whole. Here each element's text is buffered only up to
`max_record` characters and parsed by the C JSON decoder once complete (`raw_decode`, a few
records per 64 KiB read); an element still incomplete at the cap is an `Oversized` record:
only its head is kept, and the rest is skipped by a scanner that tracks strings, escapes and
nesting a piece at a time (C searches find the next quote or bracket, so a long string
costs one search per piece) and never holds it. The stream goes on with the next element.

A body that ends early, or text that is not JSON, raises ijson's IncompleteJSONError (what a
broken body raised before, so the client's retry path is unchanged). NaN and Infinity are not
JSON and are refused as such.
"""
from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, AnyStr

from ijson import IncompleteJSONError

PIECE = 64 * 1024
HEAD_KEPT = 2000  # characters of an oversized record kept for its rejection
_SPACE = " \t\r\n\ufeff"

# Reads at most `size` decoded bytes (b"" at the end); `skipped=True` for bytes not kept.
Read = Callable[..., bytes]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


@dataclass(frozen=True)
class Oversized:
    """An element longer than the cap: not parsed, its head kept (for the rejection)."""

    head: str
    max_record: int

    @property
    def reason(self) -> str:
        return f"record too large (over {self.max_record:,} characters of JSON): not kept"

    def field(self, name: str) -> Any:
        """A string or integer field as far as the head tells (the record's own, usually:
        its first fields), else None."""
        value = r'\s*:\s*("(?:[^"\\]|\\.){0,255}"|-?\d{1,20})'
        found = re.search('"' + re.escape(name) + '"' + value, self.head)
        if found is None:
            return None
        try:
            return json.loads(found.group(1))
        except ValueError:
            return None


class _Chars:
    """The characters a scanner looks for, as text or as bytes."""

    def __init__(self, kind: type) -> None:
        enc = (lambda c: c) if kind is str else (lambda c: c.encode())
        self.quote, self.backslash = enc('"'), enc("\\")
        self.opening, self.closing = (enc("{"), enc("[")), (enc("}"), enc("]"))
        self.structural = (self.quote, *self.opening, *self.closing)
        self.scalar_end = tuple(enc(c) for c in ", ]\t\r\n")


_STR, _BYTES = _Chars(str), _Chars(bytes)


class _Finder:
    """The next index of each character from a moving start, each found once by a C search
    (`find`) and kept until passed: linear in the text whatever its shape, and a long string
    or run without any of them costs one search."""

    def __init__(self, text: AnyStr) -> None:
        self.text, self.end, self.at = text, len(text), {}

    def next(self, chars: tuple, start: int) -> int:
        best = self.end
        for char in chars:
            pos = self.at.get(char, -1)
            if pos < start:
                pos = self.text.find(char, start)
                pos = self.end if pos < 0 else pos
                self.at[char] = pos
            best = min(best, pos)
        return best


class Scanner:
    """Where one JSON value ends, fed a piece at a time (text or UTF-8 bytes alike: every
    character that matters is ASCII, and no byte of a multi-byte character is)."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = self.escaped = self.scalar = self.started = False

    def feed(self, text: AnyStr, start: int = 0) -> int | None:
        """The index just past the value's end in `text`, or None when it goes on."""
        c = _STR if isinstance(text, str) else _BYTES
        find, i, n = _Finder(text), start, len(text)
        if not self.started and i < n:
            self.started = True
            first = text[i:i + 1]
            if first == c.quote:
                self.in_string, i = True, i + 1
            elif first not in c.opening:
                self.scalar = True
        while i < n:
            if self.escaped:
                self.escaped, i = False, i + 1
                continue
            if self.scalar:
                end = find.next(c.scalar_end, i)
                return None if end == n else end
            if self.in_string:
                quote, escape = find.next((c.quote,), i), find.next((c.backslash,), i)
                if escape < quote:
                    self.escaped, i = True, escape + 1
                    continue
                if quote == n:
                    return None
                self.in_string, i = False, quote + 1
                if self.depth == 0:
                    return i
                continue
            at = find.next(c.structural, i)
            if at == n:
                return None
            char, i = text[at:at + 1], at + 1
            if char == c.quote:
                self.in_string = True
            elif char in c.opening:
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 0:
                    return i
        return None


class _Buffer:
    """Decoded text not parsed yet, filled from `read`."""

    def __init__(self, read: Read) -> None:
        self.read = read
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text, self.pos, self.eof = "", 0, False

    def _decode(self, data: bytes, final: bool = False) -> str:
        try:
            return self.decoder.decode(data, final)
        except UnicodeDecodeError:
            raise IncompleteJSONError("the body is not UTF-8") from None

    def fill(self, length: int) -> None:
        """At least `length` characters from `pos` on, unless the body ends first."""
        parts, held = [self.text[self.pos:]], len(self.text) - self.pos
        while held < length and not self.eof:
            data = self.read(PIECE)
            if not data:
                self.eof = True
            parts.append(self._decode(data, final=self.eof))
            held += len(parts[-1])
        self.text, self.pos = "".join(parts), 0

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the body)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.text) or self.eof:
                return self.text[self.pos:self.pos + 1]
            self.fill(PIECE)

    def skip_rest(self, scanner: Scanner) -> None:
        """Read on (not kept) until `scanner` finds the value's end; the text after it stays."""
        while True:
            data = self.read(PIECE, skipped=True)
            if not data:
                raise IncompleteJSONError("the body ended inside a record")
            end = scanner.feed(data)
            if end is not None:
                # The end is an ASCII character: what follows decodes on its own.
                self.decoder = codecs.getincrementaldecoder("utf-8")()
                self.text, self.pos = self._decode(data[end:]), 0
                return


def records(read: Read, max_record: int) -> Iterator[Any | Oversized]:
    """Each element of the JSON array `read` gives, or an Oversized in its place."""
    buf = _Buffer(read)
    if buf.peek() != "[":
        raise IncompleteJSONError("not a JSON array")
    buf.pos += 1
    first = True
    while True:
        char = buf.peek()
        if char == "]":
            return
        if not first:
            if char != ",":
                raise IncompleteJSONError("expected , or ] between records")
            buf.pos += 1
            char = buf.peek()
        if not char:
            raise IncompleteJSONError("the body ended inside the array")
        first = False
        yield _element(buf, max_record)


def _element(buf: _Buffer, max_record: int) -> Any | Oversized:
    """The element at `buf.pos` (moved past it)."""
    while True:
        try:
            value, end = _DECODER.raw_decode(buf.text, buf.pos)
        except ValueError:  # JSONDecodeError, or a NaN refused
            end = None
        if end is not None and (end < len(buf.text) or buf.eof):
            if end - buf.pos > max_record:
                return _skip(buf, max_record, end)
            buf.pos = end
            return value
        held = len(buf.text) - buf.pos
        if buf.eof:
            raise IncompleteJSONError("a record is not valid JSON, or the body ended in it")
        if held >= max_record:
            return _skip(buf, max_record, None)
        buf.fill(min(max_record, max(2 * held, held + PIECE)))


def _skip(buf: _Buffer, max_record: int, end: int | None) -> Oversized:
    """Leave the element at `buf.pos` behind (its end `end` if known), keeping its head."""
    start = buf.pos
    oversized = Oversized(buf.text[start:start + HEAD_KEPT], max_record)
    if end is None:
        scanner = Scanner()
        end = scanner.feed(buf.text, start)
        if end is not None:  # complete within the buffer, yet not parsed: not JSON
            raise IncompleteJSONError("a record is not valid JSON")
        buf.text, buf.pos = "", 0
        buf.skip_rest(scanner)
    else:
        buf.pos = end
    return oversized
