"""URLs under /api/v1/."""
from __future__ import annotations

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from reports import api
from reports.api_reports import ReportViewSet
from reports.api_talkover import TalkoverCompatViewSet

router = DefaultRouter()
router.register("environments", api.EnvironmentViewSet, basename="environment")
router.register("reports", ReportViewSet, basename="report")

urlpatterns = router.urls

# Talkover-compatible paths have no trailing slash, exactly as Talkover's.
talkover = TalkoverCompatViewSet
urlpatterns += [
    path("environments/<int:environment_pk>/agents/",
         api.AgentViewSet.as_view({"get": "list"}), name="environment-agents"),
    re_path(r"^environments/(?P<pk>\d+)/calls$",
            talkover.as_view({"get": "calls"}), name="talkover-calls"),
    re_path(r"^environments/(?P<pk>\d+)/agents/(?P<agent_id>[^/]+)/calls$",
            talkover.as_view({"get": "agent_calls"}), name="talkover-agent-calls"),
    re_path(r"^environments/(?P<pk>\d+)/callback-agents/stats$",
            talkover.as_view({"get": "callback_stats"}), name="talkover-callback-stats"),
    re_path(r"^calls/(?P<pk>\d+)$",
            api.CallViewSet.as_view({"get": "retrieve"}), name="call-detail"),
]
