"""Each environment's sync health, shown around every organisation page and on the sync page.

Lives in `sync/` (it reads sync runs) and reaches the pages through the context processor
`environment_health`: `portal/` renders the frame but imports nothing from `sync/`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from portal.models import Environment, EnvironmentStatus, Organization
from sync.coverage import history_loading
from sync.models import StreamState, SyncRun
from sync.models.core import RunStatus
from sync.stream_names import Stream


@dataclass(frozen=True)
class EnvironmentHealth:
    """An environment's freshness line and, when something is wrong, why."""

    environment: Environment
    last_synced_at: datetime | None
    last_run_failed: bool
    last_error: str
    overdue: bool = False
    # (days mirrored, days of the back-fill) while the calls back-fill is under way.
    history: tuple[int, int] | None = None

    @property
    def problem(self) -> str:
        if self.environment.status == EnvironmentStatus.AUTH_FAILED:
            return "auth_failed"
        if self.last_run_failed:
            return "sync_failed"
        return ""


def environments_with_health(organization: Organization) -> QuerySet[Environment]:
    """The organisation's environments annotated with their latest run's status and error,
    and their calls stream's cursor (how far a back-fill is)."""
    latest = SyncRun.objects.filter(environment=OuterRef("pk")).order_by("-started_at")
    calls = StreamState.objects.filter(environment=OuterRef("pk"), stream=Stream.CALLS)
    return Environment.objects.for_organization(organization).annotate(
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_error=Subquery(latest.values("error")[:1]),
        calls_cursor=Subquery(calls.values("cursor")[:1]),
    )


def health_of(environments) -> list[EnvironmentHealth]:
    now = timezone.now()
    return [
        EnvironmentHealth(
            environment=env,
            last_synced_at=env.last_synced_at,
            last_run_failed=getattr(env, "last_run_status", None) == RunStatus.FAILED,
            last_error=getattr(env, "last_run_error", "") or "",
            overdue=env.is_overdue(now),
            history=history_loading(env, getattr(env, "calls_cursor", None), now),
        )
        for env in environments
    ]


def environment_health(request: HttpRequest) -> dict:
    """Context processor: the frame's environment chips for the page's organisation.

    `portal.pages.pages.render_org_page` sets `request.organization`; other pages get nothing.
    """
    organization = getattr(request, "organization", None)
    if organization is None:
        return {}
    environments = list(environments_with_health(organization))
    health = health_of(environments)
    return {"org_environments": environments, "health": health,
            "problems": [h for h in health if h.problem]}
