"""Organisation report pages, mounted under /o/<org_slug>/ by portal/urls.py."""
from __future__ import annotations

from django.urls import path

from reports.pages import breakdowns, calls, dashboard, quality, sync_status
from reports.saved_views import views as saved_views

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("calls/", calls.call_list, name="calls"),
    path("calls/<int:call_id>/", calls.call_detail, name="call-detail"),
    path("callbacks/", breakdowns.callbacks, name="callbacks"),
    path("agents/", breakdowns.agents, name="agents"),
    path("quality/", quality.quality, name="quality"),
    path("sync/", sync_status.sync_status, name="sync-status"),
    path("sync/<int:env_id>/now/", sync_status.sync_now, name="sync-now"),
    path("views/", saved_views.view_list, name="saved-views"),
    path("views/save/", saved_views.view_save, name="saved-view-save"),
    path("views/<int:pk>/", saved_views.view_open, name="saved-view-open"),
    path("views/<int:pk>/rename/", saved_views.view_rename, name="saved-view-rename"),
    path("views/<int:pk>/share/", saved_views.view_share, name="saved-view-share"),
    path("views/<int:pk>/delete/", saved_views.view_delete, name="saved-view-delete"),
]
