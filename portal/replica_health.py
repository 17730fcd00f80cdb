"""What each read replica is worth right now: its replay lag, read from the replica itself and
kept a few seconds in process, or why it cannot be read (down, frozen, promoted away).

The router (`portal.replicas`) asks `state_of(alias)` before it sends a request's report reads
to a replica. A state younger than `REPLICA_CHECK_SECONDS` is answered from memory; an older
one is measured again, on a thread of its own with a fresh connection, and waited for at most
`check_deadline()` seconds (the connect timeout + 1 s, as the primary's own deadline): a
replica that refuses connections answers at once, a frozen one (SIGSTOP, a hung host) is
"down" when the deadline passes, and the measuring thread is left to finish alone — one per
replica at a time, so checks against a frozen server never pile up. A replica found down, or
that failed a request (`mark_failed`), is not tried again for `REPLICA_RETRY_SECONDS`.

The lag is PostgreSQL's own account (one statement, `LAG_SQL`): a replica that has replayed
everything its WAL receiver streamed is current (lag 0, its data complete as of the moment
of the check); otherwise its data is complete as of its last replayed commit
(`pg_last_xact_replay_timestamp()`), and the lag is the time since. A replica whose replay is
paused, or whose receiver lost the primary, is judged by that same last commit, so it ages
like any lagging replica. A server no longer in recovery was promoted away: it is no replica
of this primary any more and is never read.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connections, transaction

from portal.single_flight import SingleFlight

logger = logging.getLogger("portal.replicas")

# One round trip. pg_is_wal_replay_paused() raises on a server not in recovery: asked only
# of one that is.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
       CASE WHEN pg_is_in_recovery()
            THEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() END,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),
       pg_last_xact_replay_timestamp(),
       now()
"""


@dataclass(frozen=True)
class ReplicaState:
    """One replica as last measured. `state`: ok, lagging, down or promoted."""

    state: str
    checked_at: float  # monotonic
    lag_seconds: float | None = None
    # Every commit up to this moment is on the replica (None: unknown, or not readable).
    as_of: datetime | None = None
    paused: bool = False
    error: str = ""

    @property
    def readable(self) -> bool:
        return self.state == "ok"

    def as_json(self) -> dict[str, object]:
        """What `/readyz` says of it (no host, no message: they can carry addresses)."""
        shown: dict[str, object] = {"state": self.state}
        if self.lag_seconds is not None:
            shown["lag_seconds"] = round(self.lag_seconds, 1)
        if self.paused:
            shown["replay_paused"] = True
        if self.error:
            shown["error"] = self.error
        return shown


def max_lag() -> float:
    return float(settings.REPLICA_MAX_LAG)


def check_deadline() -> float:
    """How long a request waits for a replica's check: its connect timeout + 1 s (≤ 5 s)."""
    return min(float(settings.DB_CONNECT_TIMEOUT_SECONDS or 2) + 1.0, 5.0)


_lock = threading.Lock()
_states: dict[str, ReplicaState] = {}
_checks: SingleFlight[ReplicaState] = SingleFlight("replica-check")


def _measure(alias: str) -> ReplicaState:
    """The replica's state, read from it over a connection of this thread (closed after)."""
    connection = connections[alias]
    try:  # SET LOCAL: nothing outlives the check's transaction (a pooler's other clients)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1000")
            cursor.execute(LAG_SQL)
            in_recovery, paused, caught_up, streaming, replayed_at, now = cursor.fetchone()
    finally:
        connection.close()
    checked = time.monotonic()
    if not in_recovery:
        return ReplicaState("promoted", checked)
    if caught_up and streaming and not paused:
        return ReplicaState("ok", checked, 0.0, now)
    if replayed_at is None:  # nothing replayed since it started, and not current
        return ReplicaState("lagging", checked, None, None, bool(paused))
    lag = max(0.0, (now - replayed_at).total_seconds())
    state = "ok" if lag <= max_lag() else "lagging"
    return ReplicaState(state, checked, lag, replayed_at, bool(paused))


def _checked(alias: str) -> ReplicaState:
    try:
        state = _measure(alias)
    except Exception as exc:  # noqa: BLE001  (any failure: not readable)
        state = ReplicaState("down", time.monotonic(), error=type(exc).__name__)
    _remember(alias, state)
    return state


def _run_check(alias: str) -> Future:
    """The check of `alias` under way, else a new one (one per replica at a time)."""
    return _checks.run(alias, lambda: _checked(alias))


def _remember(alias: str, state: ReplicaState) -> None:
    with _lock:
        before = _states.get(alias)
        _states[alias] = state
    if before is not None and before.state != state.state:
        level = logging.INFO if state.readable else logging.WARNING
        logger.log(level, "read replica %s: %s", alias, state.state)


def _fresh(state: ReplicaState, now: float) -> bool:
    keep = settings.REPLICA_CHECK_SECONDS if state.state in ("ok", "lagging") \
        else settings.REPLICA_RETRY_SECONDS
    return now - state.checked_at < keep


def state_of(alias: str) -> ReplicaState:
    """`alias`'s state: remembered while fresh, else measured within `check_deadline()`."""
    known = _states.get(alias)
    if known is not None and _fresh(known, time.monotonic()):
        return known
    try:
        return _run_check(alias).result(check_deadline())
    except FutureTimeout:
        state = ReplicaState("down", time.monotonic(), error="timeout")
        _remember(alias, state)
        return state


def states(aliases: list[str], deadline: float) -> dict[str, ReplicaState]:
    """Every replica's state at once (`/readyz`): those not fresh are measured together,
    all within `deadline` seconds."""
    now = time.monotonic()
    found: dict[str, ReplicaState] = {}
    checks: dict[str, Future] = {}
    for alias in aliases:
        known = _states.get(alias)
        if known is not None and _fresh(known, now):
            found[alias] = known
        else:
            checks[alias] = _run_check(alias)
    for alias, future in checks.items():
        try:
            found[alias] = future.result(max(0.0, deadline - (time.monotonic() - now)))
        except FutureTimeout:
            found[alias] = ReplicaState("down", time.monotonic(), error="timeout")
            _remember(alias, found[alias])
    return {alias: found[alias] for alias in aliases}


def mark_failed(alias: str, error: BaseException) -> None:
    """A request's statement failed on `alias`: not read again for REPLICA_RETRY_SECONDS."""
    _remember(alias, ReplicaState("down", time.monotonic(), error=type(error).__name__))


def forget() -> None:
    """Forget every state (tests)."""
    with _lock:
        _states.clear()
