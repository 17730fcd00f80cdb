"""Queue Celery tasks by name, so callers (admin actions, views) need not import task code.

With a broker, `app.send_task` puts the message on the queue chosen by `CELERY_TASK_ROUTES`.
Without one (development, `make demo`), `send_task` would not run anything, so the registered
task is looked up and run in this process: on a background thread when
`TASKS_IN_BACKGROUND` is on (the default), so a request that asks for a sync answers at once
and the sync page shows the run as it goes; inline when it is off (tests whose data lives in
an uncommitted transaction that another thread could not see).

A broker that is down or frozen raises `QueueUnavailable` within a few seconds (connect and
read timeouts and a bounded publish retry, settings `CELERY_*`), so a caller can say the
work could not be queued rather than answer a 500 or hang. The broker is the cache's Redis
(`REDIS_URL`): while the Redis guard skips the cache after a failure (`portal/redis_guard.py`),
queuing is not tried either, so a request that already waited on a frozen Redis once (reading
its session, say) does not wait on it a second time; a broker that fails marks the guard too.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from celery.result import AsyncResult, EagerResult
from django.conf import settings
from django.db import connections

from portal import redis_guard
from portal.celery import app
from portal.tenancy import context as tenant_context

logger = logging.getLogger(__name__)


class TaskNotAvailable(LookupError):
    """Eager mode, and no task of that name is registered in this process."""


class QueueUnavailable(RuntimeError):
    """The broker did not take the message (down, frozen, refused)."""


def _registered(name: str):
    task = app.tasks.get(name)
    if task is None:
        # Task modules load lazily; a web process may not have imported them yet.
        app.loader.import_default_modules()
        task = app.tasks.get(name)
    return task


def _apply(task, args: tuple, kwargs: dict) -> EagerResult:
    # throw=False: a failing task is recorded by the task itself (e.g. its SyncRun); the
    # caller should not turn into a 500, exactly as with a real worker.
    with tenant_context.outside():  # a task never reads inside the request's tenant context
        result = task.apply(args=args, kwargs=kwargs, throw=False)
    if result.failed():
        logger.warning("in-process task %s failed: %s", task.name, type(result.result).__name__)
    return result


def _apply_in_thread(task, args: tuple, kwargs: dict) -> None:
    try:
        _apply(task, args, kwargs)
    finally:
        # The thread ends here: its connections can never be reused, so they are closed, not
        # kept for CONN_MAX_AGE (`close_old_connections` keeps a healthy one open until the
        # thread's locals are collected).
        connections.close_all()


def enqueue(name: str, *args: Any, **kwargs: Any) -> AsyncResult | EagerResult | threading.Thread:
    """Queue task `name` with these arguments; without a broker run it in this process.

    Raises `TaskNotAvailable` when, without a broker, no such task is registered, and
    `QueueUnavailable` when the broker does not take it, so the caller can tell the user
    instead of pretending the work was queued.
    """
    if not app.conf.task_always_eager:
        if redis_guard.cache_is_skipped():
            logger.warning("could not queue %s: Redis failed moments ago", name)
            raise QueueUnavailable(name)
        try:
            return app.send_task(name, args=list(args), kwargs=kwargs)
        except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike
            logger.warning("could not queue %s: broker unavailable (%s)", name,
                           type(exc).__name__)
            redis_guard.mark_down("task queue", exc)
            raise QueueUnavailable(name) from exc
    task = _registered(name)
    if task is None:
        raise TaskNotAvailable(name)
    if getattr(settings, "TASKS_IN_BACKGROUND", False):
        thread = threading.Thread(target=_apply_in_thread, args=(task, args, kwargs),
                                  name=f"task-{name}", daemon=True)
        thread.start()
        return thread
    return _apply(task, args, kwargs)
