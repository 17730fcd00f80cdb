"""Report reads served from PostgreSQL streaming replicas: the one router, and the kind of work
it routes.

`DATABASE_REPLICA_URLS` (zero or more, comma-separated) adds one database per standby
(`replica_databases`, read by settings). With none, nothing changes: every read and write goes
to the primary, as it always did.

**What reads a replica.** Work that only reads the mirror enters `reads_reports()` — a context
manager and a decorator: the report pages, the reports API and the Talkover-compatible API
(`portal.tenancy.api`, `reads_reports = True`), CSV exports (`carried`, for the streamed
body), the wallboard, summaries' figures. Inside it `ReplicaRouter.db_for_read` sends reads to
one healthy replica, chosen once for the whole block (so every figure, and the data versions
that key them in the report cache, come from one database), whose replay lag is at most
`REPLICA_MAX_LAG` (`portal.replica_health`). Everything else reads the primary: writes (always),
the sync, workers, settings pages, and — even inside the block — the kinds of row that decide
who may read (`PRIMARY_ONLY`: users, sessions, memberships, teams, tokens, lockouts, the
database cache that holds rate limits and locks). A member who just changed something reads
the primary for `REPLICA_PIN_SECONDS` (`PrimaryAfterWriteMiddleware`: a cookie set by their
own successful write), so they see their change.

**What a failing replica costs.** A replica that is down, frozen, promoted away or lagging is
skipped within the check's deadline and not tried again for a while (`portal.replica_health`).
One that fails in the middle of a decorated block (a statement refused or cut off by the
web process's deadline, `portal.db_deadline`) is marked down and the block runs again on the
primary (`reads_reports` as a decorator; the API base does the same for its viewsets): the
page answers, from the primary, with no 5xx. (A streamed CSV whose replica fails after its
first rows were sent cannot start again: that download ends short.)

Nothing else names a database alias: raw SQL of the report queries takes its connection from
`connection_for(model)`, which asks the router.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from itertools import count
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, router
from django.http import HttpRequest, HttpResponse

from portal import replica_health

REPLICA_PREFIX = "replica_"
# Read from the primary even inside `reads_reports()`: who may read, and what counts requests.
PRIMARY_ONLY_APPS = frozenset({"auth", "sessions", "axes", "admin", "contenttypes",
                               "django_cache"})
PRIMARY_ONLY_MODELS = frozenset({"portal.membership", "portal.apitoken", "portal.team",
                                 "portal.teamagent", "portal.invitation"})
PIN_COOKIE = "sb_read_primary"
F = TypeVar("F", bound=Callable[..., Any])


def replica_databases(urls: list[str], primary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The DATABASES entries of `DATABASE_REPLICA_URLS`: `replica_1`, `replica_2`, … with the
    primary's connection options (timeouts, keepalives, binding) and its connection age. A
    test database mirrors the primary (replicas get no test database of their own)."""
    import dj_database_url

    databases = {}
    for number, url in enumerate(urls, start=1):
        entry = dj_database_url.parse(url, conn_max_age=primary.get("CONN_MAX_AGE", 0))
        entry["OPTIONS"] = {**primary.get("OPTIONS", {}), **entry.get("OPTIONS", {})}
        for key in ("CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
            if key in primary:
                entry[key] = primary[key]
        entry["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
        databases[f"{REPLICA_PREFIX}{number}"] = entry
    return databases


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


@dataclass
class _Writes:
    """Whether a request wrote anything a member reads back (not its session or login)."""

    wrote: bool = False


@dataclass
class _Reading:
    """One `reads_reports()` block: the database its reads go to, chosen at its first read."""

    alias: str | None = None
    as_of: datetime | None = None

    def database(self) -> str:
        if self.alias is None:
            self.alias, self.as_of = _choose()
        return self.alias

    @property
    def on_replica(self) -> bool:
        return self.alias is not None and self.alias != DEFAULT_DB_ALIAS


_reading: ContextVar[_Reading | None] = ContextVar("switchboard_reading_reports", default=None)
# The current request's member changed something moments ago (`PrimaryAfterWriteMiddleware`).
_pinned: ContextVar[bool] = ContextVar("switchboard_read_primary", default=False)
# The current request's writes, as the router saw them (`PrimaryAfterWriteMiddleware`).
_writes: ContextVar[_Writes | None] = ContextVar("switchboard_request_writes", default=None)
_turn = count()


def _choose() -> tuple[str, datetime | None]:
    """A readable replica (taking turns), with the moment its data is complete to; else the
    primary."""
    aliases = replica_aliases()
    if not aliases or _pinned.get():
        return DEFAULT_DB_ALIAS, None
    start = next(_turn)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        state = replica_health.state_of(alias)
        if state.readable:
            return alias, state.as_of
    return DEFAULT_DB_ALIAS, None


def _primary_only(model: type) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_ONLY_APPS or meta.label_lower in PRIMARY_ONLY_MODELS


class ReplicaRouter:
    """The one database router (settings DATABASE_ROUTERS)."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        reading = _reading.get()
        if reading is None or _primary_only(model):
            return DEFAULT_DB_ALIAS
        return reading.database()

    def db_for_write(self, model: type, **hints: Any) -> str:
        writes = _writes.get()
        if writes is not None and not _primary_only(model):
            writes.wrote = True
        return DEFAULT_DB_ALIAS  # never where the instance was read from: replicas refuse

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # every database holds the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # a replica replays the primary's schema


def connection_for(model: type):
    """The connection the router reads `model` from (raw SQL of the report queries)."""
    return connections[router.db_for_read(model)]


def replica_as_of() -> datetime | None:
    """When the current block reads a replica: the moment every commit is on it (figures are
    no fresher than that). None on the primary, outside a block, or before its first read."""
    reading = _reading.get()
    return reading.as_of if reading is not None and reading.on_replica else None


def read_from() -> str:
    """Where the current block's reads went: "primary" or the replica's alias."""
    reading = _reading.get()
    return reading.alias if reading is not None and reading.on_replica else "primary"


def enter() -> Token | None:
    """Start a block of report reads (None: already inside one, which goes on)."""
    if _reading.get() is not None:
        return None
    return _reading.set(_Reading())


def leave(token: Token | None) -> None:
    if token is not None:
        _reading.reset(token)


def failed_over(error: BaseException) -> bool:
    """Whether `error`, raised inside the current block, came from its replica: the replica is
    then marked down, its connection dropped, and the block may run again (on the primary or
    another replica) with a fresh choice."""
    reading = _reading.get()
    if reading is None or not reading.on_replica or not isinstance(error, OperationalError):
        return False
    alias = reading.alias
    replica_health.mark_failed(alias, error)
    try:
        connections[alias].close()
    except Exception:  # noqa: BLE001  (a broken connection may fail to close: it is gone)
        pass
    reading.alias, reading.as_of = None, None
    return True


class reads_reports:  # noqa: N801  (used as a context manager and a decorator, like atomic)
    """Report reads: `with reads_reports(): …` or `@reads_reports()` on a face. As a decorator,
    a replica failing mid-call runs the call once more on the primary (a read has no effects
    to repeat)."""

    def __enter__(self) -> None:
        self._token = enter()

    def __exit__(self, *exc: object) -> None:
        leave(self._token)

    def __call__(self, func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = enter()
            try:
                try:
                    return func(*args, **kwargs)
                except OperationalError as error:
                    if token is None or not failed_over(error):
                        raise
                return func(*args, **kwargs)
            finally:
                leave(token)

        return wrapper  # type: ignore[return-value]


def carried(items: Iterable) -> Iterator:
    """`items` (a streamed body: a CSV export) produced inside the current block's choice,
    since a generator runs in whoever iterates it, after the view returned."""
    reading = _reading.get()  # now, in the view: the body is iterated later
    if reading is None:
        return iter(items)
    return _within(reading, iter(items))


def _within(reading: _Reading, iterator: Iterator) -> Iterator:
    while True:
        token = _reading.set(reading)
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            _reading.reset(token)
        yield item


class PrimaryAfterWriteMiddleware:
    """A member's own successful write pins their reads to the primary for
    REPLICA_PIN_SECONDS, so what they just changed is what they see next: a request that
    wrote a row a member reads back (the router saw it; a session, a login, a lockout or a
    cache entry does not count) sets a cookie holding the moment the pin ends. Inert without
    replicas."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.active = bool(replica_aliases())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.active:
            return self.get_response(request)
        writes = _Writes()
        tokens = _pinned.set(self._pinned(request)), _writes.set(writes)
        try:
            response = self.get_response(request)
        finally:
            _writes.reset(tokens[1])
            _pinned.reset(tokens[0])
        if writes.wrote and response.status_code < 400:
            seconds = int(settings.REPLICA_PIN_SECONDS)
            response.set_cookie(PIN_COOKIE, str(int(time.time()) + seconds), max_age=seconds,
                                httponly=True, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE)
        return response

    @staticmethod
    def _pinned(request: HttpRequest) -> bool:
        until = request.COOKIES.get(PIN_COOKIE, "")
        return until.isdigit() and int(until) > time.time()


def replica_report(deadline: float) -> dict[str, dict[str, object]]:
    """Each replica's state for `/readyz`, measured (all at once) when older than its check
    interval, within `deadline` seconds."""
    found = replica_health.states(replica_aliases(), min(deadline, replica_health.check_deadline()))
    return {alias: state.as_json() for alias, state in found.items()}
