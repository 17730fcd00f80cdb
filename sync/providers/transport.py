"""Bounds on one upstream answer, whatever the server does: a total deadline and a size cap.

`requests` timeouts apply to each socket operation, so a body that never ends, or one that
drips a byte every few seconds (headers included), holds a sync for ever; and it inflates
gzip without limit. Here every answer gets:

- a total deadline (connect + headers + whole body): a watchdog timer shuts the answer's
  socket down when it passes, so a read blocked on a dripping server returns at once;
- a cap on the body counted after decompression (we inflate ourselves, a bounded piece at a
  time, so a gzip bomb never expands in memory);
- nothing else: redirects are not followed (`HttpClient` sends `allow_redirects=False`).

The sockets of an answer are found through its connection pool: the session's adapter uses
pools that register each connection they hand out with the watch of the current thread.
"""
from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool

from sync.providers.errors import AnswerTooLarge, AnswerTooSlow, BadResponse

MiB = 1024 * 1024
# Decoded bytes handed on per read: also the most one compressed read can inflate to at once.
PIECE = 64 * 1024
# Only what we can inflate piece by piece is offered (never br/zstd).
ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class Limits:
    """The bounds of one answer: seconds for all of it, decoded bytes, records (streams)."""

    deadline: float
    max_bytes: int
    max_records: int | None = None


def page_limits() -> Limits:
    """A JSON page (Talkover listings, error bodies): `UPSTREAM_RESPONSE_*` settings."""
    return Limits(float(settings.UPSTREAM_RESPONSE_DEADLINE_SECONDS),
                  int(settings.UPSTREAM_MAX_RESPONSE_BYTES))


def stream_limits() -> Limits:
    """A streamed history (Origins call_stats): `UPSTREAM_STREAM_*` settings."""
    return Limits(float(settings.UPSTREAM_STREAM_DEADLINE_SECONDS),
                  int(settings.UPSTREAM_MAX_STREAM_BYTES),
                  int(settings.UPSTREAM_MAX_STREAM_RECORDS))


class Watch:
    """The deadline of one answer: when it passes, the answer's sockets are shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def register(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:
            _shut(conn)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            _shut(conn)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._conns.clear()


def _shut(conn: Any) -> None:
    """Shut a connection's socket down (a blocked recv in another thread returns EOF)."""
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain method: TLS sockets too
    except OSError:
        pass


_current = threading.local()


@contextmanager
def watching(watch: Watch) -> Iterator[None]:
    """Connections taken from a watched pool in this block belong to `watch`."""
    _current.watch = watch
    try:
        yield
    finally:
        _current.watch = None


def _register(conn: Any) -> Any:
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.register(conn)
    return conn


class _WatchedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _register(super()._get_conn(timeout))


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _register(super()._get_conn(timeout))


class WatchedAdapter(HTTPAdapter):
    """An adapter whose pools hand their connections to the current thread's Watch."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool,
                                                   "https": _WatchedHTTPSPool}


class NoRedirectSession(requests.Session):
    """A session that never follows, nor prepares to follow, a redirect.

    `allow_redirects=False` alone still makes requests read a 3xx body whole (unbounded) to
    prepare the next hop; here a 3xx is an answer like any other, read within its Limits.
    """

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return iter(())


class BoundedBody:
    """The decoded body of a streamed response as a file (`read`), within its Limits.

    Raises AnswerTooSlow once the deadline passed (the watch also unblocks a stalled read),
    AnswerTooLarge once more than `max_bytes` decoded bytes came, BadResponse for a
    content encoding we did not offer. `close` ends the response and its watch.
    """

    def __init__(self, resp: Any, limits: Limits, watch: Watch, where: str) -> None:
        self.resp, self.limits, self.watch, self.where = resp, limits, watch, where
        self.size = 0
        self._pending = b""  # compressed bytes not inflated yet
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            self._inflate = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header
        else:
            self.close()
            raise BadResponse(f"{where}: unsupported content encoding (not gzip or deflate)")

    def too_slow(self) -> AnswerTooSlow:
        return AnswerTooSlow(f"{self.where}: answer too slow (not complete within "
                             f"{self.limits.deadline:g} s)")

    def read(self, size: int = -1) -> bytes:
        """At most `size` (else PIECE) decoded bytes; b"" at the end of the body."""
        if size == 0:
            return b""
        want = PIECE if size < 0 else min(size, PIECE)
        while True:
            if self.watch.expired or time.monotonic() > self.watch.ends_at:
                raise self.too_slow()
            if self._pending:
                data, eof = self._pending, False
            else:
                data = self._raw_read()
                eof = not data
            if self._inflate is None:
                out = data
            elif eof:
                out = self._inflate.flush()  # at most the window's tail
            else:
                out = self._inflate.decompress(data, want)
                self._pending = self._inflate.unconsumed_tail
            if out:
                self.size += len(out)
                if self.size > self.limits.max_bytes:
                    raise AnswerTooLarge(f"{self.where}: answer too large (over "
                                         f"{self.limits.max_bytes:,} bytes decompressed)")
                return out
            if eof:
                return b""

    def _raw_read(self) -> bytes:
        try:
            return self.resp.raw.read1(PIECE, decode_content=False)
        except Exception:
            if self.watch.expired:
                raise self.too_slow() from None
            raise

    def read_all(self) -> bytes:
        """The whole body (pages: bounded by `max_bytes`)."""
        parts = []
        while piece := self.read():
            parts.append(piece)
        return b"".join(parts)

    def close(self) -> None:
        self.watch.cancel()
        self.resp.close()
