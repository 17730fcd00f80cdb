"""Settings → Holidays (`settings_urlpatterns`, mounted under /o/<org_slug>/settings/ by the one
settings include of portal/urls.py)."""
from __future__ import annotations

from django.urls import path

from reports.holidays import views

settings_urlpatterns = [
    path("holidays/", views.holidays, name="settings-holidays"),
]
