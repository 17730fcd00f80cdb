"""The Celery application. Beat entries live in portal/schedule.py, one documented place."""
from __future__ import annotations

import os

from celery import Celery

from portal import tasklog  # the log context travels with tasks (signal receivers)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _expose_redbeat_settings(sender: Celery, **_: object) -> None:
    # RedBeat checks for its settings without the CELERY_ prefix; without this it warns
    # that they are unset although settings.py sets them.
    for key in [k for k in sender.conf.keys() if k.startswith("CELERY_REDBEAT_")]:
        sender.conf[key.removeprefix("CELERY_").lower()] = sender.conf[key]


__all__ = ["app", "tasklog"]
