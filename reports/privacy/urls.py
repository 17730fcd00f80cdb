"""Settings → Privacy (`settings_urlpatterns`, mounted under /o/<org_slug>/settings/ by the one
settings include of portal/urls.py)."""
from __future__ import annotations

from django.urls import path

from reports.privacy import views

settings_urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
]
