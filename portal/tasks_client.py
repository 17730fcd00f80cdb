"""Queue Celery tasks by name, so callers (admin actions, views) need not import task code.

With a broker, `app.send_task` puts the message on the queue chosen by `CELERY_TASK_ROUTES`.
In eager mode (development and tests without Redis) `send_task` would not run anything, so
the registered task is looked up and applied in process instead.
"""
from __future__ import annotations

import logging
from typing import Any

from celery.result import AsyncResult, EagerResult

from portal.celery import app

logger = logging.getLogger(__name__)


class TaskNotAvailable(LookupError):
    """Eager mode, and no task of that name is registered in this process."""


def enqueue(name: str, *args: Any, **kwargs: Any) -> AsyncResult | EagerResult:
    """Queue task `name` with these arguments; in eager mode run it now.

    Raises `TaskNotAvailable` in eager mode when the task is not registered, so the caller
    can tell the user instead of pretending the work was queued.
    """
    if not app.conf.task_always_eager:
        return app.send_task(name, args=list(args), kwargs=kwargs)
    task = app.tasks.get(name)
    if task is None:
        raise TaskNotAvailable(name)
    # throw=False: a failing task is recorded by the task itself (e.g. its SyncRun); the
    # request that queued it should not turn into a 500, exactly as with a real worker.
    result = task.apply(args=args, kwargs=kwargs, throw=False)
    if result.failed():
        logger.warning("eager task %s failed: %s", name, type(result.result).__name__)
    return result
