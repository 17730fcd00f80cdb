"""Settings → Privacy, under the organisation's settings (included by portal/urls.py)."""
from __future__ import annotations

from django.urls import path

from reports.privacy import views

urlpatterns = [
    path("o/<slug:org_slug>/settings/privacy/", views.privacy, name="privacy"),
]
