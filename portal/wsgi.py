"""WSGI entry point (gunicorn portal.wsgi)."""
from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

from portal import db_deadline

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Requests answer within a known bound when the database freezes; workers are not bounded.
db_deadline.bound_this_process()
gc.disable()  # while Django starts, until the apps are ready: portal/startup_gc.py
application = get_wsgi_application()
