"""Origins AI API: one bare JSON array of call records per integer agent id.

The endpoint has no envelope, pagination or date filter, so every run reads each agent's
whole history — 100,000 records are about 200 MB of JSON. The body is therefore never held:
`array_reader` parses the response as it arrives and yields one record at a time, so memory
follows the records being written, not the size of the history; and one record is held only
up to its cap (`UPSTREAM_MAX_RECORD_CHARS`): a longer one comes out as an `Oversized` in its
place (its head only), skipped at flat memory, and the stream goes on.

A body that breaks off (a dropped connection, a truncated answer) is asked for again and the
records already handed on are skipped, up to `max_attempts` times; the array is oldest first,
so what was handed on is a prefix. (A record inserted upstream inside that prefix between the
two requests is read by the next run, which re-reads everything anyway.)

The body is bounded like any answer (`stream_limits`: a total deadline and a decompressed
size cap), and so is its number of records: an endless array fails at the first bound met,
"answer too slow" or "answer too large", and is not retried.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import ijson
from django.conf import settings

from sync.providers.errors import AnswerTooLarge, BadResponse
from sync.providers.http import READ_ERRORS, HttpClient, request_line
from sync.providers.origins import array_reader
from sync.providers.transport import BoundedBody

logger = logging.getLogger("sync.http")

# What a body that breaks off while being read raises (urllib3 is read directly via raw).
_BROKEN_BODY = (ijson.JSONError, *READ_ERRORS)
_SPACE = b" \t\r\n\xef\xbb\xbf"  # and a UTF-8 byte-order mark


class _Body:
    """A response body whose first bytes were read ahead (to check it is an array)."""

    def __init__(self, raw: BoundedBody, head: bytes) -> None:
        self.raw, self.head = raw, head

    def read(self, size: int = -1, *, skipped: bool = False) -> bytes:
        if size == 0:
            return b""
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.raw.read(size, skipped=skipped)


class OriginsClient(HttpClient):
    """The endpoint the Origins sync reads."""

    def call_stats(self, agent_id: int) -> Iterator[Any]:
        """Every call record of `agent_id`, oldest first, parsed as the body arrives.

        The first request is made here (NotFound for an unknown agent, AuthError, … are
        raised by this call); the records come from iterating the result.
        """
        path = f"api/agents/{int(agent_id)}/call_stats"
        return self._records(path, self._open(path))

    def call_stats_opening(self, agent_id: int) -> bytes:
        """b"[" when an agent's call_stats opens as a JSON array (for the connection test).

        Only the first bytes are read, then the response is closed: the body is the agent's
        whole history. A body that is not an array raises BadResponse.
        """
        resp, _ = self._open(f"api/agents/{int(agent_id)}/call_stats")
        resp.close()
        return b"["

    def _open(self, path: str) -> tuple[BoundedBody, _Body]:
        resp = self.open_stream(path)
        try:
            head = b""
            while len(head) < 65536:
                more = resp.read(1024)
                if not more:
                    break
                head += more
                if head.lstrip(_SPACE):
                    break
            if head.lstrip(_SPACE)[:1] != b"[":
                found = _shape(head + resp.read(65536))
                raise BadResponse(f"{request_line('GET', path)}: expected a JSON array of "
                                  f"call records, found {found}", path=path)
        except BaseException:
            resp.close()
            raise
        return resp, _Body(resp, head)

    def _records(self, path: str, opened: tuple[BoundedBody, _Body]) -> Iterator[Any]:
        handed_on = 0
        resp, body = opened
        cap = self.stream_limits.max_records
        max_record = self.stream_limits.max_record or settings.UPSTREAM_MAX_RECORD_CHARS
        for attempt in range(self.max_attempts):
            try:
                skip = handed_on
                for record in array_reader.records(body.read, max_record):
                    if skip:
                        skip -= 1
                        continue
                    handed_on += 1
                    if cap is not None and handed_on > cap:
                        raise AnswerTooLarge(f"{request_line('GET', path)}: answer too large "
                                             f"(over {cap:,} records)", path=path)
                    yield record
                return
            except _BROKEN_BODY as exc:
                logger.warning("upstream %s: body broke off after %d records (%s), "
                               "attempt %d", request_line("GET", path), handed_on,
                               type(exc).__name__, attempt + 1)
                if attempt + 1 == self.max_attempts:
                    raise BadResponse(f"{request_line('GET', path)}: the body broke off "
                                      f"after {handed_on} records ({type(exc).__name__}), "
                                      f"{attempt + 1} times", path=path) from None
            finally:
                resp.close()
            self.backoff_pause(attempt)
            resp, body = self._open(path)


def _shape(start: bytes) -> str:
    """What a non-array body is, for the error, without quoting any of it (the address
    could be any service): "a JSON object", "an HTML page", "a non-JSON body", …"""
    text = start.lstrip(_SPACE)
    if not text:
        return "an empty body"
    try:
        value = json.loads(start)
    except ValueError:
        if text[:1] == b"{":
            return "a JSON object"
        return "an HTML page" if text[:1] == b"<" else "a non-JSON body"
    return {dict: "a JSON object", str: "a JSON string", bool: "a JSON boolean"}.get(
        type(value), "a JSON " + ("null" if value is None else "number"))
