"""The Talkover-compatible paths under /api/v1/ (`reports.api.urls` includes them): no
trailing slash, exactly as Talkover's."""
from __future__ import annotations

from django.urls import re_path

from reports.talkover.views import TalkoverCompatViewSet as talkover

urlpatterns = [
    re_path(r"^environments/(?P<pk>\d+)/calls$",
            talkover.as_view({"get": "calls"}), name="talkover-calls"),
    re_path(r"^environments/(?P<pk>\d+)/agents/(?P<agent_id>[^/]+)/calls$",
            talkover.as_view({"get": "agent_calls"}), name="talkover-agent-calls"),
    re_path(r"^environments/(?P<pk>\d+)/callback-agents/stats$",
            talkover.as_view({"get": "callback_stats"}), name="talkover-callback-stats"),
]
