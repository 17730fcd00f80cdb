"""A frozen database cannot hold a request past a known bound (PostgreSQL only).

Server-side timeouts (portal/settings.py: `connect_timeout`, `statement_timeout`,
`idle_in_transaction_session_timeout`) end a slow statement or an abandoned transaction on a
server that still runs. They do nothing when the server is frozen (SIGSTOP, a hung VM, a dead
disk): its kernel still ACKs every packet, so the client's read waits forever, the server
never acts on its own timer nor on a cancel request, and TCP keepalives or
`tcp_user_timeout` never fire because nothing is unacknowledged. Requests on open
connections waited 54–84 s that way, past the worker timeout.

Only the web process is bounded (`bound_this_process()`, called by portal/wsgi.py, so
gunicorn and runserver): a request must answer within a known time, while a worker's or a
command's statement (a back-fill merge, a rollup refresh, `migrate` building an index on a big
table) may rightly run longer than any request should.

So every statement on a web process's PostgreSQL connection runs under a client-side deadline,
`DB_CLIENT_DEADLINE_SECONDS` (default: the statement timeout + 5 s, so a live server's own
timeout answers first). One watchdog thread per process keeps the deadlines of statements in
flight; when one passes it shuts that connection's socket down (shutdown(2) on a duplicate of
libpq's descriptor, done under the same lock the statement takes to finish, so the
descriptor is still that connection's). The blocked read returns at once, psycopg raises
OperationalError, Django throws the connection away, and the request answers 503 "the
database is unavailable" (portal/dbready.py). A statement costs two dict operations under a
lock; the watchdog wakes every `TICK_SECONDS`.
"""
from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings

logger = logging.getLogger("portal.db_deadline")

TICK_SECONDS = 0.25

_lock = threading.Lock()
_in_flight: dict[int, tuple[float, int]] = {}  # statement → (monotonic deadline, socket fd)
_tokens = itertools.count()
_watchdog: threading.Thread | None = None
_bounded = False


def bound_this_process(bounded: bool = True) -> None:
    """Bound every PostgreSQL connection this process opens from now on (the web process)."""
    global _bounded
    _bounded = bounded


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


def _watch() -> None:
    while True:
        time.sleep(TICK_SECONDS)
        now = time.monotonic()
        with _lock:
            expired = [(key, fd) for key, (deadline, fd) in _in_flight.items() if deadline <= now]
            for key, fd in expired:
                del _in_flight[key]
                _shut(fd)
        for _ in expired:
            logger.warning("database statement passed its %.0f s deadline: connection shut "
                           "down (is the database frozen?)", deadline_seconds())


def _ensure_watchdog() -> None:
    global _watchdog
    if _watchdog is None or not _watchdog.is_alive():
        with _lock:
            if _watchdog is None or not _watchdog.is_alive():
                _watchdog = threading.Thread(target=_watch, name="db-deadline", daemon=True)
                _watchdog.start()


def bounded_execute(execute, sql: Any, params: Any, many: bool, context: dict) -> Any:
    """An execute wrapper (Django `execute_wrappers`): the statement under the deadline."""
    limit = deadline_seconds()
    raw = context["connection"].connection
    if not limit or raw is None:
        return execute(sql, params, many, context)
    _ensure_watchdog()
    key = next(_tokens)
    with _lock:
        _in_flight[key] = (time.monotonic() + limit, raw.fileno())
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
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false), "
            "set_config('idle_in_transaction_session_timeout', %s, false)",
            [f"{int(settings.DB_STATEMENT_TIMEOUT_SECONDS * 1000)}ms",
             f"{int(settings.DB_IDLE_IN_TRANSACTION_SECONDS * 1000)}ms"])
    if bounded_execute not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, bounded_execute)
