"""The base of every DRF viewset: tenant scoping and permissions that subclasses cannot bypass.

A subclass declares `queryset`; how its model reaches an organisation is the tenancy
registry's (`portal.tenancy.registry`), not the view's. What keeps a caller inside their
organisations is defined here only, and checked when a subclass is created — whatever the
order of its bases, so a mixin listed first cannot win either:

- `get_queryset`: the caller's organisations' rows, then `safely_narrow_queryset`;
- `filter_queryset`: the filter backends, then `safely_filter_queryset`, then the scope
  again (a backend or hook that swapped the queryset still gets only the caller's rows);
- `get_object`: through both (another tenant's object is a 404), then the object
  permission;
- permissions: authenticated, and writes need `write_role` in the object's organisation;
  `safely_permission_classes` adds checks (all must pass), never removes these;
- the tenant context (`portal.tenancy.context`): set once the caller is authenticated (in
  `initial()`), reset when `dispatch` ends; inside it a careless `Model.objects` read in a
  `list()` or an `@action` is scoped to the caller's organisations (another tenant's row:
  `DoesNotExist`, answered 404 by `handle_exception`);
- report reads (`reads_reports = True`, the reports and Talkover-compatible APIs): a GET's
  handler reads a healthy replica (`portal.replicas`), entered after authentication; the
  caller's organisations are then read first, on the primary, as literal ids (who may read
  is never decided by a lagging replica); a replica failing mid-request answers the request
  again from the primary.

Every name this class defines is its own (checked when a subclass is created), but the
hooks: `safely_…`, `dangerously_override`, `write_role` and `handle_exception` (which must
call super()).

The escape hatch for the rare exception is `dangerously_override = {"name": "why"}` on the
class: greppable, and it names the reason.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import OperationalError
from django.db.models import QuerySet
from rest_framework import exceptions, permissions, viewsets

from portal import replicas
from portal.models import Membership, Role
from portal.tenancy import context as tenant_context
from portal.tenancy import registry as tenancy
from portal.tenancy.access import (
    api_team_scope,
    organizations_for_user,
    restriction_for_user,
    team_filter,
)
from portal.tenancy.context import TenantContext
from portal.tenancy.protect import refuse_overrides

# What a view may set or define itself; every other name TenantScopedViewSet defines is
# its own (see the module docstring and `protected_names`).
# (`handle_exception`: a view may adjust an error's response after super(); a hidden row
# stays a 404 there, and without super() it is a 500 — closed either way.)
HOOKS = ("write_role", "safely_permission_classes", "dangerously_override", "handle_exception",
         "team_scoped", "reads_reports")


class RoleWritePermission(permissions.BasePermission):
    """Reads for every member; writes need `write_role` (default admin) in the object's org,
    and a caller who holds it in no organisation is refused before anything is read (a
    viewer's write is a 403, whatever the body)."""

    message = "Your role in this organisation is read-only for this resource."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS or getattr(view, "action", None) is None:
            return True  # a read, or a method the view does not answer (its 405)
        return any(m.has_role(view.write_role)
                   for m in Membership.objects.filter(user=request.user))

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        org = tenancy.organization_of(obj)
        if org is None:
            return False
        membership = Membership.objects.for_organization(org).filter(user=request.user).first()
        return membership is not None and membership.has_role(view.write_role)


class TenantScopedViewSet(viewsets.GenericViewSet):
    write_role: ClassVar[str] = Role.ADMIN
    permission_classes = (permissions.IsAuthenticated, RoleWritePermission)
    # More permission classes a view requires (added to the ones above, never instead).
    safely_permission_classes: ClassVar[tuple[type[permissions.BasePermission], ...]] = ()
    # {protected name: why this view must define it}: the rare, named exception.
    dangerously_override: ClassVar[Mapping[str, str]] = {}
    # Reads that take the team filter (`?team=<id>`, documented by `portal.schema`): the
    # request is then answered as if the caller were restricted to that team.
    team_scoped: ClassVar[bool] = False
    # A report face: its GETs read a healthy replica (`portal.replicas`).
    reads_reports: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        refuse_overrides(cls, TenantScopedViewSet, HOOKS,
                         "): tenant scoping and permissions live in TenantScopedViewSet. Use "
                         "safely_narrow_queryset, safely_filter_queryset or "
                         "safely_permission_classes (or, for the rare exception, "
                         "dangerously_override = {name: why}).")

    # --- the hooks a view may define ---------------------------------------------------
    def safely_narrow_queryset(self, queryset: QuerySet) -> QuerySet:
        """Narrow (or annotate) the caller's rows; the scope is applied again after it."""
        return queryset

    def safely_filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Filter by request parameters after the filter backends; scoped again after it."""
        return queryset

    # --- protected -----------------------------------------------------------------------
    def _organizations(self) -> QuerySet:
        """The caller's organisations: the tenant context's own queryset (a subquery), so
        what the base scopes to it is covered by the context without a second filter."""
        ctx = tenant_context.current()
        if ctx is not None and isinstance(ctx.organizations, QuerySet | frozenset):
            return ctx.organizations
        return organizations_for_user(self.request.user)

    def _overridden(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(TenantScopedViewSet, hook)

    def get_queryset(self) -> QuerySet:
        assert self.queryset is not None, f"{type(self).__name__} needs a queryset"
        scoped = tenancy.scope(self.queryset.all(), self._organizations())
        if not self._overridden("safely_narrow_queryset"):
            return scoped
        return tenancy.scope(self.safely_narrow_queryset(scoped), self._organizations())

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        filtered = self.safely_filter_queryset(super().filter_queryset(queryset))
        if not (self.filter_backends or self._overridden("safely_filter_queryset")):
            return filtered
        return tenancy.scope(filtered, self._organizations())

    def get_object(self):
        return super().get_object()

    def get_permissions(self) -> list[permissions.BasePermission]:
        required = (*TenantScopedViewSet.permission_classes, *self.safely_permission_classes)
        return [permission() for permission in required]

    def check_permissions(self, request) -> None:
        super().check_permissions(request)

    def check_object_permissions(self, request, obj) -> None:
        super().check_object_permissions(request, obj)

    def initial(self, request, *args, **kwargs) -> None:
        """DRF's initial steps; its authentication sets the tenant context (below)."""
        super().initial(request, *args, **kwargs)

    def perform_authentication(self, request) -> None:
        """Authenticate (within `initial()`, after content negotiation, before permissions),
        then set the tenant context — the caller's organisations — for the rest of the
        request: permissions, the handler, its serializers; `dispatch` resets it."""
        super().perform_authentication(request)
        organizations = organizations_for_user(request.user)
        teams = restriction_for_user(request.user)
        reads = request.method in ("GET", "HEAD")
        team_id = team_filter(request, blank_is_all=False) if self.team_scoped and reads \
            else None
        if team_id is not None and request.user.is_authenticated:
            # The same context as a member restricted to that team (404: not the caller's
            # team to pick); an anonymous caller gets the permissions' 401 first, another
            # method its 405.
            teams = api_team_scope(request.user, team_id, teams)
        if self.reads_reports and reads and request.user.is_authenticated \
                and replicas.replica_aliases():
            organizations = frozenset(organizations.order_by().values_list("pk", flat=True))
            self._reading_token = replicas.enter()
        self._tenant_token = tenant_context.enter(
            TenantContext(organizations=organizations, door="api", teams=teams,
                          team_filter=team_id))

    def dispatch(self, request, *args, **kwargs):
        try:
            return self._dispatch_once(request, *args, **kwargs)
        except OperationalError:
            if not self._failed_over:
                raise
        return self._dispatch_once(request, *args, **kwargs)  # on the primary this time

    def _dispatch_once(self, request, *args, **kwargs):
        self._tenant_token = self._reading_token = None
        self._failed_over = False
        try:
            return super().dispatch(request, *args, **kwargs)
        except OperationalError as error:
            self._failed_over = self._reading_token is not None and replicas.failed_over(error)
            raise
        finally:
            if self._tenant_token is not None:
                tenant_context.leave(self._tenant_token)
                self._tenant_token = None
            replicas.leave(self._reading_token)
            self._reading_token = None

    def handle_exception(self, exc):
        """A row the tenant context hid (`Model.objects.get(pk=<another tenant's id>)` in an
        action) is a 404, as another tenant's object is everywhere, not a 500."""
        if isinstance(exc, ObjectDoesNotExist):
            exc = exceptions.NotFound()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        """A streamed body (a CSV export) is produced inside the tenant context, and the
        browsable API, which renders forms from querysets, is rendered inside it now."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "_tenant_token", None) is None:
            return response
        if getattr(response, "streaming", False):
            return tenant_context.finish(tenant_context.current(), response)
        if getattr(getattr(response, "accepted_renderer", None), "format", None) == "api":
            response.render()
        return response

