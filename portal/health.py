"""Health endpoints for load balancers and orchestrators (no authentication, nothing secret).

`/healthz` says the process is up and answers without touching anything else (no database,
no cache). `/readyz` checks the database, the cache and the Celery broker, each on its own
thread with a short timeout, and answers within READY_DEADLINE_SECONDS whatever hangs: a part
that has not answered by then is reported as "timeout" (503). A check still running from an
earlier probe is not started again, so probes against a frozen service cannot pile up
threads or take every worker thread. Failures name only the exception class: messages can
carry hostnames or URLs with credentials.

`HealthCheckMiddleware` answers both paths first in the middleware stack, so probes that use
the pod IP as Host (not in ALLOWED_HOSTS) or plain HTTP behind a TLS proxy still get an answer
instead of a 400 or a redirect.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from portal.celery import app as celery_app
from portal.replicas import replica_aliases, replica_report
from portal.single_flight import SingleFlight

CHECK_TIMEOUT_SECONDS = 2.0
# The whole of /readyz answers within this (load balancers give probes about 5 s).
READY_DEADLINE_SECONDS = 4.0


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_cache() -> str:
    """The cache stores and returns a value. Without Redis (`make demo`) the cache is a table
    of the database: reading it proves the table is there (the database's own probe checks
    it answers), so no write is made for it."""
    if isinstance(caches[DEFAULT_CACHE_ALIAS], DatabaseCache):
        cache.get("readyz:probe")
        return "ok"
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    try:
        if cache.get(key) != "1":
            raise RuntimeError("cache did not return the value just written")
    finally:
        cache.delete(key)
    return "ok"


def check_broker() -> str:
    if celery_app.conf.task_always_eager:
        return "in-process"  # no broker configured: tasks run inside the web process
    with celery_app.connection_for_write(connect_timeout=CHECK_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
        conn.default_channel  # noqa: B018  (opening a channel talks to the broker)
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


_checks: SingleFlight[dict[str, object]] = SingleFlight("readyz")


def _checked(name: str, check: Callable[[], str]) -> dict[str, object]:
    """`check`'s state and timing; any failure means "not ready"."""
    started = time.monotonic()
    try:
        state: dict[str, object] = {"ok": True, "detail": check()}
    except Exception as exc:  # noqa: BLE001  (any failure means "not ready")
        state = {"ok": False, "error": type(exc).__name__}
    finally:
        # The thread ends here: its connections (the database's, and the database cache's
        # when there is no Redis) are closed, not left for the garbage collector.
        try:
            connections.close_all()
        except Exception:  # noqa: BLE001  (the answer above stands)
            pass
    state["ms"] = round((time.monotonic() - started) * 1000, 1)
    return state


def _run_on_thread(name: str, check: Callable[[], str]) -> Future:
    """The running check `name` if one is still going, else a new one on a daemon thread."""
    return _checks.run(name, lambda: _checked(name, check))


def run_checks(deadline: float | None = None) -> tuple[bool, dict[str, dict[str, object]]]:
    """Run every readiness check at once; return (all ok, per-part state and timing).

    A part that has not answered within `deadline` seconds is `{"ok": false, "error":
    "timeout"}`; its check finishes (or not) in the background.
    """
    limit = READY_DEADLINE_SECONDS if deadline is None else deadline
    started = time.monotonic()
    futures = {name: _run_on_thread(name, check) for name, check in CHECKS.items()}
    results: dict[str, dict[str, object]] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(max(0.0, limit - (time.monotonic() - started)))
        except FutureTimeout:
            results[name] = {"ok": False, "error": "timeout",
                             "ms": round((time.monotonic() - started) * 1000, 1)}
    return all(r["ok"] for r in results.values()), results


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Database, cache and broker are reachable (503 otherwise, `down` naming each part that
    is not). Each read replica's state is named too (`replicas`: ok, lagging, down or
    promoted, with its lag): informative only, since reports read the primary when no replica
    is readable (portal/replicas.py)."""
    started = time.monotonic()
    ready, checks = run_checks()
    body: dict[str, object] = {
        "status": "ok" if ready else "unavailable", "checks": checks,
        "down": [name for name, state in checks.items() if not state["ok"]]}
    if replica_aliases():
        left = READY_DEADLINE_SECONDS - (time.monotonic() - started)
        body["replicas"] = replica_report(max(0.5, left))
    return JsonResponse(body, status=200 if ready else 503)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
}


class HealthCheckMiddleware:
    """Answer the probe paths before host validation, HTTPS redirect and sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/"))
        if probe is not None and request.method in {"GET", "HEAD"}:
            return probe(request)
        return self.get_response(request)
