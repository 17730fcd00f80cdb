"""Closed by construction: a tenant model's SQL is scoped to the request's organisations.

Every registered model's default manager builds its querysets on `TenantQuery`. When it is
compiled — fetched, counted, tested for existence, aggregated, used as a subquery or as a
part of a union — inside a tenant context (`portal.tenancy.context`), and no door already
scoped it to organisations the context covers, the context's organisations are added to its
WHERE clause first. So `Call.objects.get(pk=<another organisation's call>)` in a page raises
`Call.DoesNotExist` (a 404), and code that scoped its reads correctly keeps its SQL: a door
(`for_organization`, `request.tenant.scoped`, the API base, the admin) records what it
scoped to, and the context adds nothing when it covers that.

The added condition is one column against literal ids or a subquery, never a join and never
an extra query: `organization_id IN (…)`; mirrored rows `environment_id IN (…)` (the
environment ids the request already read, else a subquery of the organisations'
environments), so partitioned calls still prune by month and use their (environment, …)
indexes; a longer path (`subscription__organization`) goes through its first hop's ids;
tokens through their users' memberships. Updates and deletes are scoped the same way by
`TenantQuerySet` (Django swaps the query's class for them).

A restricted member's context (`TenantContext.teams`) adds its own condition the same way,
whatever door scoped the organisation (`portal.tenancy.restriction`); only
`across_organizations()` skips it.

`across_organizations()` marks a query declared on purpose: no context filter is added.
"""
from __future__ import annotations

from django.apps import apps
from django.db.models import Q
from django.db.models.sql import Query

from portal.tenancy import context
from portal.tenancy.reach import TenantRequired, reach
from portal.tenancy.restriction import restriction_q

__all__ = ["ACROSS", "RELATED", "TenantQuery", "closed", "context_filter"]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# Read across organisations on purpose (a worker, the sync, a superuser's admin).
ACROSS = _Marker("ACROSS")
# Reached through a parent row (a related manager): trusted outside a context only.
RELATED = _Marker("RELATED")


class TenantQuery(Query):
    """A tenant model's query: scoped to the tenant context when it is compiled."""

    # What a door scoped this query to: ACROSS, RELATED, literal organisation ids
    # (a frozenset) or a queryset of organisations; None: nothing yet.
    tenant_scope: object = None

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        query = closed(self)
        if query is not self:
            return query.get_compiler(using, connection, elide_empty)
        return super().get_compiler(using, connection, elide_empty)


def _needs_filter(query: Query):
    ctx = context.current()
    if ctx is None or ctx.every_organization or getattr(query, "combinator", None):
        return None  # no context; or a union, whose parts are compiled (and scoped) apiece
    scope = getattr(query, "tenant_scope", None)
    if scope is ACROSS or ctx.covers(scope):
        return None
    return ctx


def _needs_restriction(query: Query):
    """The context's team restriction when `query` still needs it (`restriction`)."""
    ctx = context.current()
    if ctx is None or ctx.teams is None or getattr(query, "combinator", None):
        return None
    if getattr(query, "tenant_scope", None) is ACROSS or getattr(query, "team_scoped", False):
        return None
    return ctx.teams


def closed(query: Query) -> Query:
    """`query`, or a copy limited to the tenant context's organisations (and a restricted
    member's teams, `portal.tenancy.restriction`) if it needs it."""
    ctx = _needs_filter(query)
    teams = _needs_restriction(query)
    if ctx is None and teams is None:
        return query
    scoped = query.clone()
    if ctx is not None:
        scoped.add_q(context_filter(query.model, ctx))
        scoped.tenant_scope = ctx.organizations
    if teams is not None:
        scoped.add_q(restriction_q(query.model, teams))
        scoped.team_scoped = True
    return scoped


def _organizations(ctx) -> list[int] | object:
    if isinstance(ctx.organizations, frozenset):
        return sorted(ctx.organizations)
    subquery = ctx.organizations.values("pk")
    subquery.query.tenant_scope = ACROSS  # the context's own definition: not scoped again
    return subquery


def context_filter(model, ctx) -> Q:
    """The condition that limits `model`'s rows to the context's organisations (one column
    of `model`'s own table; see the module docstring)."""
    try:
        how = reach(model)
    except LookupError:
        raise TenantRequired(
            f"{model._meta.label} is read inside a tenant context ({ctx.door}) but the "
            "tenancy registry does not say whose it is") from None
    organizations = _organizations(ctx)
    if how.members is not None:
        membership = apps.get_model("portal", "Membership")
        users = _across(membership).filter(organization__in=organizations).values("user_id")
        return Q(**{f"{how.members}__in": users})
    if how.path == "pk":
        return Q(pk__in=organizations)
    first, _, rest = how.path.partition("__")
    if not rest:
        return Q(**{f"{first}__in": organizations})
    if how.via_environment and first == "environment":
        known = ctx.known_environment_ids() if isinstance(ctx.organizations, frozenset) \
            else None
        if known is not None:
            return Q(environment__in=known)
    related = model._meta.get_field(first).related_model
    parents = _across(related).filter(**{f"{rest}__in": organizations}).values("pk")
    return Q(**{f"{first}__in": parents})


def _across(model):
    queryset = model._default_manager.all()
    if isinstance(queryset.query, TenantQuery):
        queryset.query.tenant_scope = ACROSS  # the subquery is itself the scope
    return queryset
