""""The database is not set up": one plain line instead of a traceback before `migrate`.

A newcomer who runs a command or opens a page before `manage.py migrate` gets a missing-table
error from deep inside whatever ran first. `manage.py` and `NotMigratedMiddleware` catch
database errors, ask the migration graph whether anything is unapplied, and if so answer
with `MESSAGE` (exit status 1, or a 503 page) — other database errors pass unchanged.
"""
from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

MESSAGE = "The database is not set up: run `manage.py migrate` first."


def not_migrated() -> bool:
    """True when the default database lacks applied migrations (or cannot even say)."""
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return True


class NotMigratedMiddleware:
    """A 503 with `MESSAGE` for a request that failed because migrations are missing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DatabaseError) and not_migrated():
            return HttpResponse(MESSAGE, status=503, content_type="text/plain; charset=utf-8")
        return None
