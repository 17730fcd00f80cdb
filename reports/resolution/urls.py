"""Settings → Resolution (`settings_urlpatterns`, mounted under /o/<org_slug>/settings/ by the
one settings include of portal/urls.py)."""
from __future__ import annotations

from django.urls import path

from reports.resolution import views

settings_urlpatterns = [
    path("resolution/", views.resolution, name="settings-resolution"),
]
