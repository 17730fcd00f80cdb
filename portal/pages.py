"""What every organisation page shows around its content: switcher, freshness, warnings.

Views call `render_org_page` instead of `render`, so the header of every page states which
organisation and environments it shows, when they last synced, and whether a sync failed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.access import membership_for, organizations_for_user
from portal.models import Environment, EnvironmentStatus, Organization
from sync.models import RunStatus, SyncRun

LAST_ORG_SESSION_KEY = "last_org"


@dataclass(frozen=True)
class EnvironmentHealth:
    """An environment's freshness line and, when something is wrong, why."""

    environment: Environment
    last_synced_at: datetime | None
    last_run_failed: bool
    last_error: str

    @property
    def problem(self) -> str:
        if self.environment.status == EnvironmentStatus.AUTH_FAILED:
            return "auth_failed"
        if self.last_run_failed:
            return "sync_failed"
        return ""


def environments_with_health(organization: Organization) -> QuerySet[Environment]:
    """The organisation's environments annotated with their latest run's status and error."""
    latest = SyncRun.objects.filter(environment=OuterRef("pk")).order_by("-started_at")
    return Environment.objects.filter(organization=organization).annotate(
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_error=Subquery(latest.values("error")[:1]),
    )


def health_of(environments) -> list[EnvironmentHealth]:
    return [
        EnvironmentHealth(
            environment=env,
            last_synced_at=env.last_synced_at,
            last_run_failed=getattr(env, "last_run_status", None) == RunStatus.FAILED,
            last_error=getattr(env, "last_run_error", "") or "",
        )
        for env in environments
    ]


def render_org_page(
    request: HttpRequest,
    organization: Organization,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render `template` with the organisation frame (switcher, freshness, warnings)."""
    request.session[LAST_ORG_SESSION_KEY] = organization.slug
    environments = list(environments_with_health(organization))
    health = health_of(environments)
    membership = membership_for(request.user, organization)
    frame = {
        "org": organization,
        "membership": membership,
        "can_admin": membership is not None and membership.has_role("admin"),
        "user_orgs": list(organizations_for_user(request.user).order_by("name")),
        "org_environments": environments,
        "health": health,
        "problems": [h for h in health if h.problem],
    }
    frame.update(context or {})
    # Every time on an organisation's pages is shown in the organisation's timezone.
    with timezone.override(organization.tzinfo):
        return render(request, template, frame, status=status)
