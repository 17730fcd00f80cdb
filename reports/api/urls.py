"""URLs under /api/v1/."""
from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from reports.alerts.api import AlertEventViewSet, AlertRuleViewSet
from reports.api import views as api
from reports.api.reports import ReportViewSet
from reports.api.teams import TeamViewSet
from reports.privacy.api import ErasureViewSet, SubjectExportViewSet


class Router(DefaultRouter):
    # No ".json" suffix routes: the report actions take no `format` argument (a 500 before).
    include_format_suffixes = False


router = Router()
router.register("environments", api.EnvironmentViewSet, basename="environment")
router.register("reports", ReportViewSet, basename="report")
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")
router.register("alert-events", AlertEventViewSet, basename="alert-event")
router.register("teams", TeamViewSet, basename="team")
router.register("privacy/erasures", ErasureViewSet, basename="privacy-erasure")

# Before the router's routes, so no "reports/<pk>/" pattern could claim it.
urlpatterns = [
    path("privacy/subject-export/", SubjectExportViewSet.as_view({"get": "export"}),
         name="privacy-subject-export"),
    *router.urls,
]

urlpatterns += [
    path("environments/<int:environment_pk>/agents/",
         api.AgentViewSet.as_view({"get": "list"}), name="environment-agents"),
    # The compatible API's paths (its package's), before the call detail.
    path("", include("reports.talkover.urls")),
    re_path(r"^calls/(?P<pk>\d+)$",
            api.CallViewSet.as_view({"get": "retrieve"}), name="call-detail"),
]
