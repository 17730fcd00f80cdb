"""The one outbound door: every request Switchboard makes to another server goes through it.

The sync's upstream reads (`sync.providers.http.HttpClient`), webhook registration on Talkover
(`sync.webhooks.register`) and alert webhooks (`reports.alerts.webhooks`) all send through
`send` / `exchange` on a session from `outbound_session`, so each answer is bounded the same way
whatever the server does: a total deadline and a size cap.

`requests` timeouts apply to each socket operation, so a body that never ends, or one that
drips a byte every few seconds (headers included), holds a sync for ever; and it inflates
gzip without limit. Here every answer gets:

- a total deadline (connect + headers + whole body): the process's watchdog thread shuts the
  answer's socket down when it passes, so a read blocked on a dripping server returns at once
  (one thread for every answer: a timer thread each was started and woken for every page a
  sync reads, on the GIL the sync's checking and writing threads need);
- a cap on the body counted after decompression (we inflate ourselves, a bounded piece at a
  time, so a gzip bomb never expands in memory);
- nothing else: redirects are not followed (`send` asks `allow_redirects=False` of a session
  that could not follow one anyway), and no body is ever echoed: callers get its status, its
  headers and, when they read it, bytes they must not quote (status, size, kind, hash only).

The sockets of an answer are found through its connection pool: the session's adapter uses
pools that register each connection they hand out with the watch of the current thread.
"""
from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

from sync.providers.errors import AddressRefused, AnswerTooLarge, AnswerTooSlow, BadResponse

# Given the host asked for and the address a socket reached, whether to go on.
PeerCheck = Callable[[str, str], bool]

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
    max_record: int | None = None  # characters of one record's JSON (streams)


def page_limits() -> Limits:
    """A JSON page (Talkover listings, error bodies): `UPSTREAM_RESPONSE_*` settings."""
    return Limits(float(settings.UPSTREAM_RESPONSE_DEADLINE_SECONDS),
                  int(settings.UPSTREAM_MAX_RESPONSE_BYTES))


def hook_limits() -> Limits:
    """An answer we only need the status of (webhook registration, alert webhooks):
    `OUTBOUND_HOOK_*` settings, short, since a person or an alert waits on it."""
    return Limits(float(settings.OUTBOUND_HOOK_DEADLINE_SECONDS),
                  int(settings.OUTBOUND_HOOK_MAX_BYTES))


def stream_limits(provider: str | None = None) -> Limits:
    """A streamed history (Origins call_stats): `UPSTREAM_STREAM_*` settings, and the size
    of one record (`UPSTREAM_MAX_RECORD_CHARS`). The deadline is `provider`'s own when
    `UPSTREAM_STREAM_DEADLINES` names it, else `UPSTREAM_STREAM_DEADLINE_SECONDS`."""
    deadline = getattr(settings, "UPSTREAM_STREAM_DEADLINES", {}).get(
        provider, settings.UPSTREAM_STREAM_DEADLINE_SECONDS)
    return Limits(float(deadline),
                  int(settings.UPSTREAM_MAX_STREAM_BYTES),
                  int(settings.UPSTREAM_MAX_STREAM_RECORDS),
                  int(settings.UPSTREAM_MAX_RECORD_CHARS))


class Watch:
    """The deadline of one answer: when it passes, the answer's sockets are shut down (by
    the process's `_Watchdog`)."""

    def __init__(self, seconds: float, peer_check: PeerCheck | None = None) -> None:
        self.seconds = seconds
        self.peer_check = peer_check
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self.done = False  # cancelled or expired: the watchdog forgets it
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        _watchdog.add(self)

    def register(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:
            _shut(conn)

    def _expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = self.done = True
            conns = list(self._conns)
        for conn in conns:
            _shut(conn)

    def cancel(self) -> None:
        with self._lock:
            self.done = True
            self._conns.clear()


class _Watchdog:
    """One thread for every watch of the process: it sleeps until the earliest deadline of
    a watch still open and expires what is due.

    Cancelled watches are dropped lazily, when they reach the front of the heap; a new watch
    wakes the thread only when it ends before the thread's next wake-up (answers share their
    deadline, so a busy sync adds watches without waking it). A forked child (a Celery
    worker) starts with no watch and its own thread, on first use.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._wakes_at: float | None = None  # None: asleep until a watch comes

    def add(self, watch: Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.ends_at, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outbound-watchdog",
                                                daemon=True)
                self._thread.start()
            elif self._wakes_at is None or watch.ends_at < self._wakes_at:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                due = []
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    watch = heapq.heappop(self._heap)[2]
                    if not watch.done:
                        due.append(watch)
                if due:
                    self._cond.release()
                    try:
                        for watch in due:
                            watch._expire()
                    finally:
                        self._cond.acquire()
                    continue
                self._wakes_at = self._heap[0][0] if self._heap else None
                self._cond.wait(None if self._wakes_at is None else self._wakes_at - now)

    def forget(self) -> None:
        """In a forked child: the parent's thread and watches are not ours."""
        self.__init__()  # type: ignore[misc]


_watchdog = _Watchdog()
os.register_at_fork(after_in_child=_watchdog.forget)


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


def _checked(conn: Any, sock: socket.socket) -> socket.socket:
    """The connected socket, unless the watch's peer check refuses the address it reached.

    The address checked is the one connected to, before a byte is sent (TLS included), so a
    name that resolves to a public address when checked and a private one when used (DNS
    rebinding) is still refused.
    """
    watch = getattr(_current, "watch", None)
    check = watch.peer_check if watch is not None else None
    if check is None:
        return sock
    try:
        address = str(sock.getpeername()[0])
    except OSError:
        address = ""
    if not check(str(conn.host), address):
        sock.close()
        raise AddressRefused(f"{conn.host}: refused, it reached a private address",
                             path="")
    return sock


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(self, super()._new_conn())


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(self, super()._new_conn())


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        return _register(super()._get_conn(timeout))


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        return _register(super()._get_conn(timeout))


class WatchedAdapter(HTTPAdapter):
    """An adapter whose pools hand their connections to the current thread's Watch."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool,
                                                   "https": _WatchedHTTPSPool}


class _HeadersOnly(AuthBase):
    """The session's own headers are its credentials (a bearer token, or none): requests
    would otherwise look up ~/.netrc for every request and let an entry there replace them."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class NoRedirectSession(requests.Session):
    """A session that never follows, nor prepares to follow, a redirect.

    `allow_redirects=False` alone still makes requests read a 3xx body whole (unbounded) to
    prepare the next hop; here a 3xx is an answer like any other, read within its Limits.
    The proxies the environment gives a host are looked up once per session (requests
    scans the whole process environment for every request otherwise).
    """

    def __init__(self) -> None:
        super().__init__()
        self.auth = _HeadersOnly()
        self._environ: dict[tuple[str, Any], dict[str, str]] = {}

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return iter(())

    def merge_environment_settings(self, url: str | bytes | None, proxies: Any, stream: Any,
                                   verify: Any, cert: Any) -> dict[str, Any]:
        """requests' own, with the environment's proxies of a host looked up once."""
        if not self.trust_env or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        proxies = dict(proxies or {})
        no_proxy = proxies.get("no_proxy")
        parts = urlsplit(url)
        key = (f"{parts.scheme}://{parts.netloc}", no_proxy)
        if key not in self._environ:
            self._environ[key] = get_environ_proxies(url, no_proxy=no_proxy)
        for name, value in self._environ[key].items():
            proxies.setdefault(name, value)
        if verify is True or verify is None:
            verify = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                      or verify)
        return {"proxies": merge_setting(proxies, self.proxies),
                "stream": merge_setting(stream, self.stream),
                "verify": merge_setting(verify, self.verify),
                "cert": merge_setting(cert, self.cert)}


class BoundedBody:
    """The decoded body of a streamed response as a file (`read`), within its Limits.

    Raises AnswerTooSlow once the deadline passed (the watch also unblocks a stalled read),
    AnswerTooLarge once more than `max_bytes` decoded bytes came, BadResponse for a
    content encoding we did not offer. `close` ends the response and its watch.
    """

    def __init__(self, resp: Any, limits: Limits, watch: Watch, where: str) -> None:
        self.resp, self.limits, self.watch, self.where = resp, limits, watch, where
        self.size = self.skipped = 0
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

    def read(self, size: int = -1, *, skipped: bool = False) -> bytes:
        """At most `size` (else PIECE) decoded bytes; b"" at the end of the body.

        `skipped`: bytes the reader passes over without keeping (an oversized record): they
        are counted apart, against the same cap, so a record skipped whole does not use up
        the answer's allowance; time still runs against the deadline.
        """
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
                if skipped:
                    self.skipped += len(out)
                else:
                    self.size += len(out)
                if max(self.size, self.skipped) > self.limits.max_bytes:
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


def outbound_session(headers: dict[str, str] | None = None) -> NoRedirectSession:
    """A session for `send`: never follows a redirect; its pools report to the watch."""
    session = NoRedirectSession()
    for scheme in ("http://", "https://"):
        session.mount(scheme, WatchedAdapter())
    session.headers["Accept-Encoding"] = ACCEPT_ENCODING
    if headers:
        session.headers.update(headers)
    return session


def send(session: requests.Session, method: str, url: str, limits: Limits, *,
         where: str, timeout: tuple[float, float] = (5.0, 30.0), path: str = "",
         peer_check: PeerCheck | None = None, **kwargs: Any) -> BoundedBody:
    """Send one request; the answer's status and headers, its body not read yet.

    The deadline runs from here to the body's last byte (connect and headers included):
    AnswerTooSlow when it passes before the headers, else from the body's reads. Any other
    failure to get an answer is the `requests` exception (callers say its class, never its
    text, which may carry the URL). `peer_check` refuses (AddressRefused) a connection by the
    address it reached. The caller reads (within `limits`) and closes the body.
    """
    watch = Watch(limits.deadline, peer_check)
    connect, read = timeout
    try:
        with watching(watch):
            resp = session.request(method, url, stream=True, allow_redirects=False,
                                   timeout=(min(connect, limits.deadline), read), **kwargs)
        return BoundedBody(resp, limits, watch, where)
    except requests.RequestException:
        watch.cancel()
        if watch.expired:
            raise AnswerTooSlow(f"{where}: answer too slow (not complete within "
                                f"{limits.deadline:g} s)", path=path) from None
        raise
    except BaseException:
        watch.cancel()
        raise


@dataclass(frozen=True)
class Answer:
    """A whole answer, read within its limits: never to be quoted to anyone."""

    status: int
    headers: Any
    body: bytes


def exchange(method: str, url: str, limits: Limits, *, where: str,
             session: requests.Session | None = None, **kwargs: Any) -> Answer:
    """Send one request and read its whole answer within `limits` (one attempt, no retry).

    Raises AnswerTooSlow / AnswerTooLarge / BadResponse from the bounds, or the `requests`
    exception when no answer came. A session made here is closed here.
    """
    own = session is None
    session = session or outbound_session()
    try:
        body = send(session, method, url, limits, where=where, **kwargs)
        try:
            content = body.read_all()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if body.watch.expired:
                raise body.too_slow() from None
            raise requests.ConnectionError(type(exc).__name__) from None
        finally:
            body.close()
        return Answer(body.resp.status_code, body.resp.headers, content)
    finally:
        if own:
            session.close()
