"""The Celery application. Beat entries live in portal/schedule.py, one documented place."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from portal import tasklog  # noqa: E402,F401  (log context travels with tasks)
