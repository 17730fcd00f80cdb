"""The tenancy registry: how each model reaches its organisation, in one place, and the one
door that limits a queryset to organisations.

Each app declares its own models in its `AppConfig.ready` (`portal/apps.py`, `sync/apps.py`,
`reports/apps.py`): `portal` imports neither `sync` nor `reports`, so they come to it. A
model reaches its organisation either along a foreign-key path (`organization`,
`environment__organization`, `subscription__organization`, `pk` for `Organization`) or
through memberships (a user, a personal API token: they belong to every organisation their
user is a member of). `tests/portal/test_tenancy_registry.py` fails on a model, viewset or admin
that is not here.

Everything that scopes reads this registry: the page helper (`portal.tenancy.access.Tenant`), the
API base (`portal.tenancy.api.TenantScopedViewSet`), the admin mixin (`portal.admin.base`) and the
managers below. The environment shortcut lives here only: mirrored rows (a path through
`environment`) are filtered on their own `environment_id` column — their indexes start with
it — with literal ids when the caller has them, else a subquery, never a join.

Managers: `TenantQuerySet` gives every registered model `Model.objects.for_organization(org)`
(fails closed: no organisation is an error, not every row), `for_organizations(ids)` and
the named door `across_organizations()` for the readers that legitimately read every
organisation (the sync, workers, a superuser in the admin). `StrictTenantQuerySet` is the
default manager of the models the sync and Django's auth never read (saved views,
invitations, alert rules, events and banner dismissals, summary subscriptions and
deliveries): read without one of those doors outside a request it raises `TenantRequired`
instead of answering every organisation's rows, so the workers that judge every rule and send
every summary say `across_organizations()` where they do. The mirror and the tenancy core
(organisations, environments, memberships, tokens, the audit log) keep a permissive default
outside a request: the sync's write path, authentication and Django's own machinery read them.

Inside a request every one of these managers fails closed: its queries are `TenantQuery`s
(`portal.tenancy.query`), scoped to the request's tenant context (`portal.tenancy.context`)
when compiled unless a door here already scoped them to organisations the context covers
(a door records what it scoped to on the query) or they say `across_organizations()`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

from portal.tenancy import context as tenant_context
from portal.tenancy.query import ACROSS, RELATED, TenantQuery, closed
from portal.tenancy.reach import (
    VIA_ENVIRONMENT,
    Reach,
    TenantRequired,
    path_of,
    reach,
    register,
    registered,
)

__all__ = ["VIA_ENVIRONMENT", "Reach", "StrictTenantManager", "StrictTenantModel",
           "TenantManager", "TenantModel", "TenantQuerySet", "TenantRequired",
           "across_organizations", "organization_of", "path_of", "reach", "register",
           "registered", "scope"]

Organizations = models.Model | int | Iterable[int] | QuerySet
EnvironmentIds = Sequence[int] | Callable[[], Sequence[int]] | None


def _organization_ids(organizations: Organizations) -> list[int] | QuerySet:
    if isinstance(organizations, QuerySet):
        return organizations.values("pk") if organizations.query.values_select == () \
            else organizations
    if isinstance(organizations, models.Model):
        if organizations.pk is None:
            raise TenantRequired("an unsaved organisation has no rows")
        return [organizations.pk]
    if isinstance(organizations, int):
        return [organizations]
    if organizations is None:
        raise TenantRequired("no organisation given")
    return [getattr(o, "pk", o) for o in organizations]


def scope(queryset: QuerySet, organizations: Organizations, *,
          environment_ids: EnvironmentIds = None) -> QuerySet:
    """`queryset` limited to the rows of `organizations` (an Organization, ids, or a queryset
    of organisations used as a subquery), as the registry says its model reaches them.

    `environment_ids`: the environments of those organisations when the caller already has
    them (or a callable giving them), used as literal ids for mirrored rows."""
    if organizations is None:
        raise TenantRequired(f"{queryset.model.__name__}: no organisation given")
    how = reach(queryset.model)
    ids = _organization_ids(organizations)
    if how.members is not None:
        membership = apps.get_model("portal", "Membership")
        members = membership.objects.filter(organization__in=ids).values("user_id")
        scoped = queryset.filter(**{f"{how.members}__in": members})
    elif how.path == "pk":
        scoped = queryset.filter(pk__in=ids)
    elif how.via_environment:
        if callable(environment_ids):
            environment_ids = environment_ids()
        if environment_ids is None:
            environment_ids = apps.get_model("portal", "Environment").objects.filter(
                organization__in=ids).values("pk")
        scoped = queryset.filter(**{f"{how.path[: -len('__organization')]}__in":
                                    environment_ids})
    else:
        scoped = queryset.filter(**{f"{how.path}__in": ids})
    recorded = organizations if isinstance(organizations, QuerySet) else (
        frozenset(ids) if isinstance(ids, list) else ids)
    return _declared(scoped, recorded)


def across_organizations(queryset: QuerySet) -> QuerySet:
    """The named door for readers of every organisation (the sync, workers, superusers in the
    admin): the queryset as it is, declared unscoped on purpose — also inside a tenant
    context, where it is the one way to read another organisation's rows."""
    return _declared(queryset, ACROSS)


def _declared(queryset: QuerySet, scope_: object) -> QuerySet:
    """Record on the query what a door scoped it to (`portal.tenancy.query`)."""
    if isinstance(queryset, TenantQuerySet):
        queryset = queryset._chain()
        queryset.query.tenant_scope = scope_
    return queryset


def organization_of(obj: models.Model) -> models.Model | None:
    """The organisation `obj` belongs to, along its registered path; None for a row of many
    organisations (a user, a token) or one whose path is broken (a nullable link)."""
    how = reach(type(obj))
    if how.path is None:
        return None
    if how.path == "pk":
        return obj
    for part in how.path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


class TenantQuerySet(QuerySet):
    """A registered model's queryset with the tenant doors; its query is a `TenantQuery`,
    scoped to the tenant context when compiled (`portal.tenancy.query`)."""

    def __init__(self, model=None, query=None, using=None, hints=None) -> None:
        if query is None and model is not None:
            query = TenantQuery(model)
        super().__init__(model=model, query=query, using=using, hints=hints)

    @property
    def tenant_scope(self) -> object:
        return getattr(self.query, "tenant_scope", None)

    def _closed(self) -> TenantQuerySet:
        """This queryset scoped to the tenant context now (updates and deletes: Django
        swaps their query's class, so the compile-time scope would not see them)."""
        query = closed(self.query)
        if query is self.query:
            return self
        clone = self._chain()
        clone.query = query
        return clone

    def update(self, **kwargs) -> int:
        return super(TenantQuerySet, self._closed()).update(**kwargs)

    def _update(self, values):
        return super(TenantQuerySet, self._closed())._update(values)

    def delete(self):
        return super(TenantQuerySet, self._closed()).delete()

    def _raw_delete(self, using):
        return super(TenantQuerySet, self._closed())._raw_delete(using)

    update.alters_data = True
    _update.alters_data = True
    _update.queryset_only = False
    delete.alters_data = True
    delete.queryset_only = True
    _raw_delete.alters_data = True

    def _combined_scope(self, other: QuerySet, either: bool) -> object:
        mine, theirs = self.tenant_scope, getattr(other.query, "tenant_scope", None)
        if either:  # AND: limited by whichever side was scoped
            return mine if mine is not None else theirs
        return mine if mine is theirs or mine == theirs else None  # OR: both, or neither

    def __and__(self, other):
        combined = super().__and__(other)
        if isinstance(combined, TenantQuerySet):
            combined.query.tenant_scope = self._combined_scope(other, either=True)
        return combined

    def __or__(self, other):
        combined = super().__or__(other)
        if isinstance(combined, TenantQuerySet):
            combined.query.tenant_scope = self._combined_scope(other, either=False)
        return combined

    def __xor__(self, other):
        combined = super().__xor__(other)
        if isinstance(combined, TenantQuerySet):
            combined.query.tenant_scope = self._combined_scope(other, either=False)
        return combined

    def for_organization(self, organization: models.Model | int | None) -> QuerySet:
        """This organisation's rows (an Organization or its id); no organisation (None,
        unsaved) is `TenantRequired`, never every row."""
        if isinstance(organization, bool) or not isinstance(organization, int) and getattr(
                organization, "pk", None) is None:
            raise TenantRequired(f"{self.model.__name__}.for_organization needs an organisation")
        return scope(self, organization)

    def for_organizations(self, organizations: Iterable[int] | QuerySet) -> QuerySet:
        """The rows of several organisations (ids, or a queryset of them as a subquery)."""
        return scope(self, organizations)

    def across_organizations(self) -> QuerySet:
        """Every organisation's rows, on purpose (see `across_organizations`)."""
        return across_organizations(self)


class StrictTenantQuerySet(TenantQuerySet):
    """A queryset that refuses to be read before a door has said whose rows it holds.

    Checked where Django reads (fetching, counting, existence, aggregates, updates and
    deletes); a queryset used inside another query (a subquery) is not itself read.
    """

    def _require_scope(self) -> None:
        if self.tenant_scope is None and tenant_context.current() is None:
            raise TenantRequired(
                f"{self.model.__name__} rows are read through a tenant door: "
                f".for_organization(org), request.tenant.scoped(...), the API base or the "
                f"admin; a reader of every organisation says .across_organizations()")

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def count(self) -> int:
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self):
        self._require_scope()
        return super().delete()

    update.alters_data = True
    delete.alters_data = True
    delete.queryset_only = True


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """`objects` of a registered model. A related manager (`org.saved_views`, `rule.events`)
    reaches its rows through a parent row, which was itself found through a door."""

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "core_filters", None) is not None:  # a related manager
            queryset.query.tenant_scope = RELATED
        return queryset


class StrictTenantManager(TenantManager.from_queryset(StrictTenantQuerySet)):
    """`objects` of a model only requests read: refuses to be read without a door."""


class TenantModel(models.Model):
    """The base of every registered model: its default manager is the door above, declared
    once here so no model can be written with Django's plain manager (which would answer
    every organisation's rows)."""

    objects = TenantManager()

    class Meta:
        abstract = True


class StrictTenantModel(TenantModel):
    """The base of a model only requests read: its manager refuses to be read without a door."""

    objects = StrictTenantManager()

    class Meta:
        abstract = True
