"""The report pages' URLs, included by reports/urls.py under /o/<org_slug>/."""
from __future__ import annotations

from django.urls import path

from reports.pages import (
    breakdowns,
    calls,
    dashboard,
    kpis,
    live,
    outcomes,
    quality,
    sync_status,
)

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("calls/", calls.call_list, name="calls"),
    path("calls/<int:call_id>/", calls.call_detail, name="call-detail"),
    path("callbacks/", breakdowns.callbacks, name="callbacks"),
    path("agents/", breakdowns.agents, name="agents"),
    path("quality/", quality.quality, name="quality"),
    path("outcomes/", outcomes.outcomes, name="outcomes"),
    path("kpis/", kpis.kpis, name="kpis"),
    path("kpis/thresholds/", kpis.success_thresholds, name="kpis-thresholds"),
    path("live/", live.live, name="live"),
    path("live/data/", live.live_data, name="live-data"),
    path("live/thresholds/", live.live_thresholds, name="live-thresholds"),
    path("sync/", sync_status.sync_status, name="sync-status"),
    path("sync/<int:env_id>/now/", sync_status.sync_now, name="sync-now"),
]
