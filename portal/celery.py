"""The Celery application. Beat entries live in portal/schedule.py, one documented place."""
from __future__ import annotations

import os
from contextvars import Token

from celery import Celery
from celery.signals import task_postrun, task_prerun

from portal import tasklog  # the log context travels with tasks (signal receivers)
from portal.tenancy import context as tenant_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_tenant_tokens: dict[str, Token] = {}


@task_prerun.connect
def _outside_tenant_context(task_id: str = "", **_: object) -> None:
    # A task reads as a worker does, even run in process by a request (eager, tests, demo):
    # it declares what it reads, it never inherits the request's tenant context.
    _tenant_tokens[task_id] = tenant_context.enter(None)


@task_postrun.connect
def _restore_tenant_context(task_id: str = "", **_: object) -> None:
    token = _tenant_tokens.pop(task_id, None)
    if token is not None:
        try:
            tenant_context.leave(token)
        except ValueError:  # set in another context (a worker thread): nothing to restore
            pass


@app.on_after_configure.connect
def _expose_redbeat_settings(sender: Celery, **_: object) -> None:
    # RedBeat checks for its settings without the CELERY_ prefix; without this it warns
    # that they are unset although settings.py sets them.
    for key in [k for k in sender.conf.keys() if k.startswith("CELERY_REDBEAT_")]:
        sender.conf[key.removeprefix("CELERY_").lower()] = sender.conf[key]


__all__ = ["app", "tasklog"]
