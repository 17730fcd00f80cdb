"""The one place that decides what a user may see and do.

Organisation pages are decorated with `org_page(min_role, methods)`, which resolves the
organisation and the caller's membership once and hands the view `request.tenant` (scoped
querysets, through the tenancy registry `portal.tenancy.registry`, as the API base and the admin
mixin); the API goes through `portal.tenancy.api.TenantScopedViewSet`, which uses
`organizations_for_user`. This module imports nothing from `sync/` or `reports/`.
Another organisation's object is a 404 (we do not confirm it exists); a member whose role
is too low gets a 403.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.translation import gettext as _

from portal.models import (
    RESTRICTABLE_ROLES,
    Environment,
    Membership,
    Organization,
    Role,
    Team,
    TeamAgent,
)
from portal.tenancy import context as tenant_context
from portal.tenancy import registry as tenancy
from portal.tenancy.context import TenantContext
from portal.tenancy.membership_lookup import membership_in, memberships_of
from portal.tenancy.restriction import Restriction


def organizations_for_user(user) -> QuerySet[Organization]:
    """Every organisation `user` is a member of — also inside one organisation's page (its
    switcher lists the others): scoped by the memberships, declared across organisations."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.across_organizations().filter(memberships__user=user)


def environments_for_user(user) -> QuerySet[Environment]:
    return Environment.objects.for_organizations(organizations_for_user(user))


def membership_for(user, organization: Organization) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.for_organization(organization).filter(user=user).first()


def _require_role(membership: Membership | None, min_role: str) -> Membership:
    if membership is None:
        raise Http404(_("No such organisation."))
    if not membership.has_role(min_role):
        raise PermissionDenied(
            _("Your role (%(role)s) cannot do this; it needs %(needed)s or above.")
            % {"role": Role(membership.role).label, "needed": Role(min_role).label}
        )
    return membership


def get_organization_for_user(user, slug: str, min_role: str = Role.VIEWER) -> Organization:
    """The organisation `slug` if `user` belongs to it with at least `min_role`, else 404/403."""
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise Http404(_("No such organisation."))
    _require_role(membership_for(user, org), min_role)
    return org


def get_environment_for_user(user, environment_id: int, min_role: str = Role.VIEWER) -> Environment:
    """The environment if `user` belongs to its organisation with at least `min_role`."""
    env = Environment.objects.select_related("organization").filter(pk=environment_id).first()
    if env is None:
        raise Http404(_("No such environment."))
    _require_role(membership_for(user, env.organization), min_role)
    return env


# --- Pages: one decorator resolves the organisation and the membership once ---------------

READ_METHODS = ("GET", "HEAD")
WRITE_METHODS = ("GET", "HEAD", "POST")


@dataclass(frozen=True)
class Tenant:
    """What an organisation page may touch: the organisation, the caller's membership and
    querysets already limited to the organisation. Set on `request.tenant` by `org_page`."""

    organization: Organization
    membership: Membership
    # The team filter (`?team=<id>`): the pages read as that team's (a restricted member:
    # one of their own teams only).
    team_id: int | None = None
    # Every organisation the caller is a member of, by name (the frame's switcher), when the
    # door read them with the membership (`resolve_tenant`); None: not read.
    user_organizations: tuple[Organization, ...] | None = None

    @property
    def can_admin(self) -> bool:
        return self.membership.has_role(Role.ADMIN)

    def has_role(self, role: str) -> bool:
        return self.membership.has_role(role)

    def require(self, role: str) -> None:
        """403 unless the caller has `role` (for views where only POST needs a higher role)."""
        _require_role(self.membership, role)

    @property
    def environments(self) -> QuerySet[Environment]:
        return Environment.objects.for_organization(self.organization)

    @cached_property
    def environment_ids(self) -> list[int]:
        """The organisation's environment ids, read once per request: mirrored rows are
        filtered on their own `environment_id` column with these (`portal.tenancy.registry`)."""
        return list(self.environments.values_list("pk", flat=True))

    def know_environments(self, environments: list[Environment]) -> None:
        """The organisation's environments as this request read them whole, through this
        tenant's context (the frame's chips, `sync.health.org_environments`): their ids are
        `environment_ids` (no query reads them again), and the context then scopes mirrored
        rows by those literal ids rather than by a subquery of the organisation's
        environments compiled and planned in every statement."""
        self.__dict__.setdefault("environment_ids", [env.pk for env in environments])

    @cached_property
    def restriction(self) -> Restriction | None:
        """The member's teams, when they are restricted to them (`portal.models.teams`); read
        only for a member `resolve_tenant` found restricted (no query for the others)."""
        mine = restriction_of(self.membership) if getattr(
            self.membership, "restricted", False) else None
        if self.team_id is None:
            return mine
        return team_scope(self.organization, self.team_id, mine)

    @property
    def restricted(self) -> bool:
        return self.restriction is not None

    @cached_property
    def context(self) -> TenantContext:
        """The request's tenant context (`portal.tenancy.context`): this organisation, and
        its environment ids once this request has read them; a restricted member's teams."""
        return TenantContext(organizations=frozenset((self.organization.pk,)),
                             known_environment_ids=lambda: self.__dict__.get("environment_ids"),
                             teams=self.restriction, team_filter=self.team_id)

    def scoped(self, model: type[models.Model]) -> QuerySet:
        """`model`'s rows of this organisation, as the tenancy registry says it reaches it
        (any app's model: each app registers its own, so this module imports no other)."""
        return tenancy.scope(model._default_manager.all(), self.organization,
                             environment_ids=lambda: self.environment_ids)

    def get(self, model: type[models.Model], **lookup) -> models.Model:
        """One of this organisation's `model` rows, or 404 (another tenant's id included)."""
        obj = self.scoped(model).filter(**lookup).first()
        if obj is None:
            raise Http404(_("Not found."))
        return obj


def restriction_of(membership: Membership) -> Restriction | None:
    """The teams' agents of one restricted membership (None: not restricted)."""
    if membership.role not in RESTRICTABLE_ROLES:
        return None
    rows = list(TeamAgent.objects.across_organizations()
                .filter(team__members=membership)
                .values_list("team_id", "team__name", "environment_id", "agent_external_id"))
    teams = list(membership.teams.all().values_list("pk", "name")) if not rows else []
    if not rows and not teams:
        return None
    names = sorted({name for _, name, *_ in rows} | {name for _, name in teams})
    return Restriction(
        organizations=frozenset((membership.organization_id,)), environments=frozenset(),
        agents=frozenset((env, agent) for _, _, env, agent in rows),
        teams=frozenset({t for t, *_ in rows} | {t for t, _ in teams}), names=tuple(names))


def team_restriction(organization: Organization, team_id: int) -> Restriction:
    """One team of `organization` as a restriction (the team filter); 404 for another's."""
    team = Team.objects.for_organization(organization).filter(pk=team_id).first()
    if team is None:
        raise Http404(_("No such team."))
    agents = TeamAgent.objects.across_organizations().filter(team=team)
    return Restriction(
        organizations=frozenset((organization.pk,)), environments=frozenset(),
        agents=frozenset(agents.values_list("environment_id", "agent_external_id")),
        teams=frozenset((team.pk,)), names=(team.name,))


def team_scope(organization: Organization, team_id: int,
               mine: Restriction | None) -> Restriction:
    """The team filter (`?team=`) of a caller whose own restriction in `organization` is
    `mine`: that team as a restriction. A restricted caller may pick only among their own
    teams of this organisation; another team, or another organisation's, is a 404."""
    if (mine is not None and organization.pk in mine.organizations
            and team_id not in mine.teams):
        raise Http404(_("No such team."))
    return team_restriction(organization, team_id)


def api_team_scope(user, team_id: int, mine: Restriction | None) -> Restriction:
    """The API's team filter: the team must be of one of the caller's organisations (else
    404), then read as the pages read it (`team_scope`)."""
    organization = organizations_for_user(user).filter(teams=team_id).first()
    if organization is None:
        raise Http404(_("No such team."))
    return team_scope(organization, team_id, mine)


def team_filter(request: HttpRequest, blank_is_all: bool = True) -> int | None:
    """The `?team=` of a request: a team id, None when absent; 404 when not an id. A page's
    filter form sends `team=` for "all teams" (`blank_is_all`); the API documents an integer,
    so there a blank value is no id either."""
    raw = request.GET.get("team")
    if raw is None or (raw == "" and blank_is_all):
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise Http404(_("No such team."))
    return int(raw)


def restriction_for_user(user) -> Restriction | None:
    """A caller of the API: their teams in every organisation where they are restricted, and
    everything in the others (`others`). One query for a caller restricted nowhere, none when
    the API token's lookup already said so (`restricted_somewhere`)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "restricted_somewhere", None) is False:  # the API token's lookup says
        return None
    rows = list(Membership.objects.across_organizations()
                .filter(user=user, role__in=RESTRICTABLE_ROLES, teams__isnull=False)
                .values_list("organization_id", "teams__id", "teams__name",
                             "teams__agents__environment_id",
                             "teams__agents__agent_external_id"))
    if not rows:
        return None
    organizations = frozenset(org for org, *_ in rows)
    environments = frozenset(Environment.objects.across_organizations().filter(
        organization__in=organizations).values_list("pk", flat=True))
    others = Membership.objects.across_organizations().filter(user=user).exclude(
        organization__in=organizations).exists()
    return Restriction(
        organizations=organizations, environments=environments,
        agents=frozenset((env, agent) for *_, env, agent in rows if env is not None),
        teams=frozenset(team for _, team, *_ in rows), others=others,
        names=tuple(sorted({name for _, _, name, *_ in rows})))


def resolve_tenant(user, slug: str, min_role: str = Role.VIEWER) -> Tenant:
    """The caller's membership in organisation `slug`, in one query (which also reads the
    caller's other organisations, for the frame's switcher): 404 when there is none (or no
    such organisation: we do not say which), 403 below `min_role`."""
    memberships = memberships_of(user.pk) if getattr(user, "is_authenticated", False) else []
    membership = membership_in(memberships, slug)
    _require_role(membership, min_role)
    return Tenant(organization=membership.organization, membership=membership,
                  user_organizations=tuple(m.organization for m in memberships))


@contextmanager
def not_found_outside_the_tenant() -> Iterator[None]:
    """A row the tenant context hid (`Model.objects.get(pk=<another tenant's id>)`) is a 404,
    as another tenant's object is everywhere, not a 500."""
    try:
        yield
    except ObjectDoesNotExist as exc:
        raise Http404(_("Not found.")) from exc


def org_page(min_role: str = Role.VIEWER, methods: tuple[str, ...] = READ_METHODS):
    """Decorate every organisation page (URL kwarg `org_slug`): login, then the tenant is
    resolved once and handed to the view as `tenant` in place of the slug (and set on
    `request.tenant` for what the view calls), 404 non-member, 403 below `min_role`, and
    methods outside `methods` are 405. Read-only pages keep the default (GET/HEAD)."""

    allowed = tuple(dict.fromkeys(methods))

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, org_slug: str, **kwargs) -> HttpResponse:
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            request.tenant = tenant = resolve_tenant(request.user, org_slug, min_role)
            team_id = team_filter(request)
            if team_id is not None:
                request.tenant = tenant = dataclasses.replace(tenant, team_id=team_id)
            ctx = tenant.context
            with tenant_context.using(ctx), not_found_outside_the_tenant():
                response = view(request, *args, tenant=tenant, **kwargs)
                return tenant_context.finish(ctx, response)

        wrapper.org_page = True  # the URL-resolver test checks every org URL has it
        wrapper.allowed_methods = allowed
        wrapper.min_role = min_role
        return wrapper

    return decorate
