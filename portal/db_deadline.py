"""A frozen database cannot hold a request past a known bound (PostgreSQL only).

Server-side timeouts (portal/settings.py: `connect_timeout`, `statement_timeout`,
`idle_in_transaction_session_timeout`) end a slow statement or an abandoned transaction on a
server that still runs. They do nothing when the server is frozen (SIGSTOP, a hung VM, a dead
disk, a stalled proxy): its kernel still ACKs every packet, so the client's read waits
forever, the server never acts on its own timer nor on a cancel request, and TCP keepalives or
`tcp_user_timeout` never fire because nothing is unacknowledged. Requests on open
connections waited 54–84 s that way, past the worker timeout.

Only the web process is bounded (`bound_this_process()`, called by portal/wsgi.py, so
gunicorn and runserver): a request must answer within a known time, while a worker's or a
command's statement (a back-fill merge, a rollup refresh, `migrate` building an index on a big
table) may rightly run longer than any request should.

So one watchdog thread per web process keeps the statements in flight, and:

- **probes** the server when a statement has run for `PROBE_AFTER_SECONDS` (1 s): a fresh
  TCP connection and PostgreSQL's 8-byte SSLRequest, which a running server answers at once
  with one byte, before any authentication, without touching a table; a request that failed
  on the database (a connect that timed out) probes it too (`suspect`). No answer within
  `PROBE_TIMEOUT_SECONDS` (1.5 s) means the server is frozen: every statement in flight is
  cut off at once (below), and until a probe (one a second) is answered again the process is
  *down*: statements fail before they are sent and `portal.dbready.DatabaseDownMiddleware`
  answers 503 before a request opens a connection (which would wait its connect timeout,
  2 s); while a probe is under way, a new request waits for its verdict rather than connect
  (`wait_for_verdict`). A request on
  an open connection therefore answers 503 within about 1.25 + 1.5 s, on a new connection
  within 2 + 1.5 s, and requests queued behind them as soon as a thread takes them: ≤ 5 s
  with 16 in flight. A slow statement on a live server is answered by the probe and goes on;
- **cuts off** any statement past `DB_CLIENT_DEADLINE_SECONDS` (default: the statement
  timeout + 5 s, so a live server's own timeout answers first) whatever the probe says: a
  server whose postmaster answers but whose backend hangs.

Cutting off shuts the connection's socket down (shutdown(2) on a duplicate of libpq's
descriptor, done under the same lock the statement takes to finish, so the descriptor is
still that connection's). The blocked read returns at once, psycopg raises
OperationalError, Django throws the connection away, and the request answers 503 "the
database is unavailable" (portal/dbready.py). A statement costs two dict operations under a
lock; the watchdog wakes every `TICK_SECONDS`.
"""
from __future__ import annotations

import itertools
import logging
import os
import socket
import struct
import threading
import time
from typing import Any

from django.conf import settings
from django.db import OperationalError

logger = logging.getLogger("portal.db_deadline")

TICK_SECONDS = 0.25
# A statement in flight this long has the server probed (at most one probe at a time).
PROBE_AFTER_SECONDS = 1.0
# While the server is down, it is probed again this often.
REPROBE_SECONDS = 1.0
# A running server answers the probe in milliseconds (it forks a backend, which answers
# before reading anything from disk); one that has not within this is frozen.
PROBE_TIMEOUT_SECONDS = 1.5
# PostgreSQL's SSLRequest: length 8, code 80877103. A server answers b"S" or b"N".
SSL_REQUEST = struct.pack("!ii", 8, 80877103)

_lock = threading.Lock()
Target = tuple[str, int]  # a server's host (or socket directory) and port
# statement → (monotonic start, monotonic deadline, socket fd, server)
_in_flight: dict[int, tuple[float, float, int, Target]] = {}
_tokens = itertools.count()
_watchdog: threading.Thread | None = None
_bounded = False
_down: set[Target] = set()  # servers that did not answer their last probe
_probing: dict[Target, threading.Event] = {}  # set when the probe has concluded
_last_probe: dict[Target, float] = {}


def bound_this_process(bounded: bool = True) -> None:
    """Bound every PostgreSQL connection this process opens from now on (the web process);
    `False` unbinds it and forgets what the probes found (tests)."""
    global _bounded
    _bounded = bounded
    if not bounded:
        with _lock:
            _down.clear()


def deadline_seconds() -> float:
    """The client-side bound of one statement; 0 turns the watchdog off."""
    return float(getattr(settings, "DB_CLIENT_DEADLINE_SECONDS", 0) or 0)


def _shut(fd: int) -> None:
    try:
        dup = socket.socket(fileno=os.dup(fd))
    except OSError:
        return  # already closed: nothing waits on it
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        dup.close()  # the duplicate only; the connection's own descriptor stays


def target_of(settings_dict: dict) -> Target:
    return settings_dict.get("HOST") or "localhost", int(settings_dict.get("PORT") or 5432)


def wait_for_verdict(alias: str = "default") -> None:
    """A probe of the server under way concludes within its timeout: waiting for it beats
    opening a connection to a server that may be frozen (its whole connect timeout). Not
    while the server is known down (that answer is already in)."""
    target = target_of(settings.DATABASES[alias])
    if _bounded and target not in _down:
        probe = _probing.get(target)
        if probe is not None:
            probe.wait(PROBE_TIMEOUT_SECONDS + 0.5)


def is_down(alias: str = "default") -> bool:
    """Whether this process found the database frozen and has not heard from it since."""
    return _bounded and target_of(settings.DATABASES[alias]) in _down


def server_answers(target: Target, timeout: float) -> bool:
    """Whether the database server answers an SSLRequest within `timeout` seconds."""
    host, port = target
    try:
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(timeout)
            sock.connect(f"{host}/.s.PGSQL.{port}")
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return False
    with sock:
        sock.settimeout(max(0.1, timeout))
        try:
            sock.sendall(SSL_REQUEST)
            return sock.recv(1) in (b"S", b"N")
        except OSError:
            return False


def _probe(target: Target) -> None:
    """Probe `target`; found frozen, cut off every statement in flight on it."""
    answered = server_answers(target, PROBE_TIMEOUT_SECONDS)
    with _lock:
        was_down = target in _down
        done = _probing.pop(target, None)
        if answered:
            _down.discard(target)
            cut = []
        else:
            _down.add(target)
            cut = [(key, fd) for key, (_s, _d, fd, where) in _in_flight.items()
                   if where == target]
        for key, fd in cut:
            del _in_flight[key]
            _shut(fd)
    if done is not None:
        done.set()
    if answered == was_down:  # the state changed
        logger.warning("database server %s:%s %s", *target,
                       "answers again" if answered else
                       f"does not answer (frozen?): {len(cut)} statement(s) cut off")


def _maybe_probe(now: float, suspect: Target | None = None) -> None:
    """Probe each server a statement has waited on for PROBE_AFTER_SECONDS, each server
    that is down (once per REPROBE_SECONDS), and `suspect` (a request just failed on it)."""
    with _lock:
        slow = {where for start, _d, _f, where in _in_flight.values()
                if now - start >= PROBE_AFTER_SECONDS}
        due = [t for t in slow | _down
               if t not in _probing and now - _last_probe.get(t, 0.0) >= REPROBE_SECONDS]
        if suspect is not None and suspect not in _probing and suspect not in _down \
                and suspect not in due:
            due.append(suspect)
        for target in due:
            _probing[target] = threading.Event()
            _last_probe[target] = now
    for target in due:
        threading.Thread(target=_probe, args=(target,), name="db-probe", daemon=True).start()


def suspect(alias: str = "default") -> None:
    """A request failed on the database (a connect that timed out, a cut-off statement):
    probe it now, so requests queued behind this one learn at once whether it is down."""
    if _bounded:
        _ensure_watchdog()
        _maybe_probe(time.monotonic(), target_of(settings.DATABASES[alias]))


def _watch() -> None:
    while True:
        time.sleep(TICK_SECONDS)
        now = time.monotonic()
        with _lock:
            expired = [(key, fd) for key, (_s, deadline, fd, _t) in _in_flight.items()
                       if deadline <= now]
            for key, fd in expired:
                del _in_flight[key]
                _shut(fd)
        for _ in expired:
            logger.warning("database statement passed its %.0f s deadline: connection shut "
                           "down (is the database frozen?)", deadline_seconds())
        _maybe_probe(now)


def _ensure_watchdog() -> None:
    global _watchdog
    if _watchdog is None or not _watchdog.is_alive():
        with _lock:
            if _watchdog is None or not _watchdog.is_alive():
                _watchdog = threading.Thread(target=_watch, name="db-deadline", daemon=True)
                _watchdog.start()


def bounded_execute(execute, sql: Any, params: Any, many: bool, context: dict) -> Any:
    """An execute wrapper (Django `execute_wrappers`): the statement under the deadline and
    the watchdog's probe; refused at once while the server is known to be down."""
    target = target_of(context["connection"].settings_dict)
    if target in _down:
        _ensure_watchdog()  # it probes until the server answers again
        raise OperationalError("the database server does not answer (frozen?)")
    limit = deadline_seconds()
    raw = context["connection"].connection
    if raw is None:
        return execute(sql, params, many, context)
    _ensure_watchdog()
    key = next(_tokens)
    now = time.monotonic()
    with _lock:
        _in_flight[key] = (now, now + limit if limit else float("inf"), raw.fileno(), target)
    try:
        return execute(sql, params, many, context)
    finally:
        with _lock:
            _in_flight.pop(key, None)


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: in a bounded process, set the server-side timeouts of a
    new PostgreSQL connection and bound its statements. The wrapper goes first in the list, so
    `with connection.execute_wrapper(...)` blocks pop their own."""
    if not _bounded:
        return
    if settings.DB_TRANSACTION_POOLING:  # session settings would leak to the pool's others
        _bound(connection)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false), "
            "set_config('idle_in_transaction_session_timeout', %s, false)",
            [f"{int(settings.DB_STATEMENT_TIMEOUT_SECONDS * 1000)}ms",
             f"{int(settings.DB_IDLE_IN_TRANSACTION_SECONDS * 1000)}ms"])
    _bound(connection)


def _bound(connection: Any) -> None:
    if bounded_execute not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, bounded_execute)
