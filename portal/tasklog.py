"""Carry the log context into Celery tasks.

A task published while handling a request (or inside another task) takes the publisher's
request id with it in a message header; the worker binds it, plus the task name and the
environment / organisation the task works on, for every line the task logs. Tasks name their
environment with an `environment_id` argument (keyword, or the first positional argument of a
`sync.*` task) and their organisation with `organization_id`.
"""
from __future__ import annotations

import contextvars
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from portal.logging import bind_context, current_context, unbind_context

HEADER = "switchboard_log_context"
_tokens: dict[str, contextvars.Token] = {}


@before_task_publish.connect
def _attach_context(headers: dict[str, Any] | None = None, **_: Any) -> None:
    context = current_context()
    if headers is not None and context.get("request_id"):
        headers[HEADER] = {"request_id": context["request_id"]}


def _environment_of(task: Any, args: tuple, kwargs: dict) -> int | None:
    value = kwargs.get("environment_id")
    if value is None and args and task.name.startswith("sync."):
        value = args[0]
    return value if isinstance(value, int) else None


def _log_organization_id(environment_id: int | None, kwargs: dict) -> int | None:
    if isinstance(kwargs.get("organization_id"), int):
        return kwargs["organization_id"]
    if environment_id is None:
        return None
    from portal.models import Environment

    return (
        Environment.objects.filter(pk=environment_id)
        .values_list("organization_id", flat=True)
        .first()
    )


@task_prerun.connect
def _bind_task_context(task_id: str = "", task: Any = None, args: tuple = (),
                       kwargs: dict | None = None, **_: Any) -> None:
    kwargs = kwargs or {}
    carried = getattr(task.request, HEADER, None) or {}
    environment_id = _environment_of(task, tuple(args or ()), kwargs)
    _tokens[task_id] = bind_context(
        request_id=carried.get("request_id") or current_context().get("request_id") or task_id,
        task=task.name,
        environment_id=environment_id,
        organization_id=_log_organization_id(environment_id, kwargs),
    )


@task_postrun.connect
def _unbind_task_context(task_id: str = "", **_: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        try:
            unbind_context(token)
        except ValueError:  # bound in another context (thread); nothing left to restore here
            pass
