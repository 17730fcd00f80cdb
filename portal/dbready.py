""""The database is not set up" and "the database is unavailable": one plain answer each,
instead of a traceback.

A newcomer who runs a command or opens a page before `manage.py migrate` gets a missing-table
error from deep inside whatever ran first. `manage.py` and `NotMigratedMiddleware` catch
database errors, ask the migration graph whether anything is unapplied, and if so answer
with `MESSAGE` (exit status 1, or a 503 page) — other database errors pass unchanged.

A database that cannot be reached, refuses connections, or was cut off by a timeout
(portal/db_deadline.py, the server's statement timeout) is not a missing migration: asking the
migration graph would only wait on it again. That is a 503 saying the database is unavailable
(`UNAVAILABLE`, JSON under /api/), answered at once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from portal import db_deadline

logger = logging.getLogger("portal.dbready")

MESSAGE = "The database is not set up: run `manage.py migrate` first."


def unavailable_message() -> str:
    return _("The database is unavailable right now; try again in a minute.")


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot answer (a missing table is a ProgrammingError)."""
    return isinstance(exc, OperationalError)


def not_migrated() -> bool:
    """True when the default database lacks applied migrations (or cannot even say)."""
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return True


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 "the database is unavailable" (JSON under /api/), retry in a minute."""
    message = unavailable_message()
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "60"
    return response


class NotMigratedMiddleware:
    """A 503 for a request that failed because the database is unavailable, or because
    migrations are missing (`MESSAGE`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_unavailable(exception):
            db_deadline.suspect()
            logger.error("database unavailable: %s %s (%s)", request.method, request.path,
                         type(exception.__cause__ or exception).__name__)
            return unavailable_response(request)
        if isinstance(exception, DatabaseError) and not_migrated():
            return HttpResponse(MESSAGE, status=503, content_type="text/plain; charset=utf-8")
        return None


class DatabaseDownMiddleware:
    """While this process knows the database server is frozen (portal/db_deadline.py), answer
    503 before anything opens a connection (a new one would wait its whole connect
    timeout); while a probe is under way, wait for its verdict first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        db_deadline.wait_for_verdict()
        if db_deadline.is_down():
            db_deadline.suspect()  # keeps the watchdog probing until the server answers
            return unavailable_response(request)
        return self.get_response(request)
