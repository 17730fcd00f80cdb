"""Each environment's sync health, shown around every organisation page and on the sync page.

Lives in `sync/` (it reads sync runs) and reaches the pages through the context processor
`environment_health`: `portal/` renders the frame but imports nothing from `sync/`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import JSONField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils import timezone

from portal.model_rows import CompiledQuery
from portal.models import Environment, EnvironmentStatus, Organization
from portal.tenancy import context as tenant_context
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


def environments_with_health(organization: Organization | int) -> QuerySet[Environment]:
    """The organisation's environments annotated with their latest run's status and error,
    and their calls stream's cursor (how far a back-fill is).

    The three correlated reads are written as SQL (`_latest`): as ORM subqueries they were
    compiled anew on every page (2.5 ms of the 3 this frame part cost). The rows
    are still the ORM's `Environment` query, so the tenant door scopes them as before; each
    read only follows its own row's id."""
    run, state = _latest()
    return Environment.objects.for_organization(organization).annotate(
        last_run_status=RawSQL(run % "status", ()),
        last_run_error=RawSQL(run % "error", ()),
        calls_cursor=RawSQL(state, (Stream.CALLS.value,), output_field=JSONField()),
    ).order_by("name")  # one organisation's: its name would cost a join


@cache
def _latest() -> tuple[str, str]:
    """(a run column's subquery with `%s` for the column, the calls cursor's subquery)."""
    quote = connection.ops.quote_name
    env = quote(Environment._meta.db_table)
    run_env = quote(SyncRun._meta.get_field("environment").column)
    state_env = quote(StreamState._meta.get_field("environment").column)
    started = quote(SyncRun._meta.get_field("started_at").column)
    return (f"(SELECT r.%s FROM {quote(SyncRun._meta.db_table)} r WHERE r.{run_env} = "
            f"{env}.{quote('id')} ORDER BY r.{started} DESC LIMIT 1)",
            f"(SELECT s.{quote('cursor')} FROM {quote(StreamState._meta.db_table)} s "
            f"WHERE s.{state_env} = {env}.{quote('id')} AND s.{quote('stream')} = %s LIMIT 1)")


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


_HEALTH = CompiledQuery(environments_with_health, int)


def _read_with_health(organization: Organization,
                      alias: str = DEFAULT_DB_ALIAS) -> list[Environment]:
    """`environments_with_health(organization)`'s rows, its query compiled once per process
    (`portal.model_rows`): the ORM compiled it anew on every organisation page (a twelfth of
    a search page's CPU). Served so only where the door's scope needs nothing more: the
    organisation is one of the tenant context's (or there is none) and the member is not
    restricted to teams (the restriction's conditions are the context's); elsewhere the
    queryset is read as it is."""
    ctx = tenant_context.current()
    if ctx is not None and (ctx.teams is not None
                            or not ctx.covers(frozenset((organization.pk,)))):
        return list(environments_with_health(organization))
    return _HEALTH.objects(alias, organization.pk)


def org_environments(request: HttpRequest, organization: Organization) -> list[Environment]:
    """`environments_with_health(organization)`, read once per request: a page that needs
    the organisation's environments itself (the calls explorer's filter) takes these rows, and
    the frame's chips then ask no second query for the same rows. The page's tenant learns
    their ids (`Tenant.know_environments`): its context then scopes mirrored rows by them,
    not by a subquery of the organisation's environments in every statement."""
    kept = getattr(request, "_org_environments", None)
    if kept is None or kept[0] != organization.pk:
        kept = (organization.pk, _read_with_health(organization))
        request._org_environments = kept
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.organization.pk == organization.pk:
            tenant.know_environments(kept[1])
    return kept[1]


def environment_health(request: HttpRequest) -> dict:
    """Context processor: the frame's environment chips for the page's organisation.

    `portal.pages.pages.render_org_page` sets `request.organization`; other pages get nothing.
    """
    organization = getattr(request, "organization", None)
    if organization is None:
        return {}
    environments = org_environments(request, organization)
    health = health_of(environments)
    return {"org_environments": environments, "health": health,
            "problems": [h for h in health if h.problem]}
