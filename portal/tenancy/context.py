"""The request's tenant context: whose rows a request may read, held in a context variable.

PostHog's model: the one page decorator (`portal.tenancy.access.org_page`), the API base's
`initial()` (`portal.tenancy.api`) and the admin site's view wrapper (`portal.admin.base`)
set it; while it is set, every tenant model's default manager scopes an undeclared read to
it (`portal.tenancy.query`), so a careless `Call.objects.get(pk=…)` of another organisation's
row raises `DoesNotExist` (a 404), never answers it. Outside a request (workers, commands,
the sync) no context is set and managers answer as before; Celery tasks always run outside
one, even in process (`portal.celery`'s task signals).

A context names its organisations as literal ids (a page: one; the admin: those the user
administers) or as a queryset of them (the API: the caller's memberships, read as a subquery,
never as an extra query), or `None` for every organisation (a superuser in the admin).
`teams` is the restriction inside an organisation of a member given teams
(`portal.tenancy.restriction.Restriction`: the (environment id, upstream agent id) pairs they
may read): the same managers apply it (`portal.tenancy.query`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from django.db.models import QuerySet

__all__ = ["TenantContext", "chosen_team", "current", "enter", "leave", "outside", "using",
           "within"]


def _unknown() -> list[int] | None:
    return None


@dataclass(frozen=True)
class TenantContext:
    """Whose rows the current request may read."""

    # Literal ids, a queryset of organisations (a subquery), or None: every organisation.
    organizations: frozenset[int] | QuerySet | None
    # The organisations' environment ids when the request already read them (no query):
    # mirrored rows are then filtered on literal ids, else on a subquery.
    known_environment_ids: Callable[[], list[int] | None] = field(default=_unknown)
    # A member restricted to teams: what they may read; None = the whole organisation.
    # (`portal.tenancy.restriction.Restriction`, not imported: that module reads this one.)
    teams: object | None = None
    # Where it was set ("page", "api", "admin"): named in errors.
    door: str = "page"
    # The team the caller chose with `?team=<id>` (its restriction is `teams`): links the
    # request writes to other pages carry it, so they open the same scope (`reports.drill`).
    team_filter: int | None = None

    @property
    def every_organization(self) -> bool:
        return self.organizations is None

    def covers(self, scope: object) -> bool:
        """Whether rows a door already scoped to `scope` (literal ids or a queryset of
        organisations) are all inside this context, so no second filter is needed."""
        if self.organizations is None:
            return True
        if scope is self.organizations:
            return True
        return (isinstance(scope, frozenset) and isinstance(self.organizations, frozenset)
                and scope <= self.organizations)


_current: ContextVar[TenantContext | None] = ContextVar("switchboard_tenant", default=None)


def current() -> TenantContext | None:
    return _current.get()


def chosen_team() -> int | None:
    """The current request's team filter (`?team=`), None when it chose none."""
    ctx = _current.get()
    return ctx.team_filter if ctx is not None else None


def enter(context: TenantContext | None) -> Token:
    """Set `context` (None: no context) until `leave(token)`; for doors that cannot use a
    `with` block (the API's `initial()` / `finalize_response()`)."""
    return _current.set(context)


def leave(token: Token) -> None:
    _current.reset(token)


@contextmanager
def using(context: TenantContext | None) -> Iterator[TenantContext | None]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def outside() -> AbstractContextManager[TenantContext | None]:
    """No tenant context: a task run in process by a request reads as a worker does."""
    return using(None)


def within(context: TenantContext | None, items: Iterable) -> Iterator:
    """`items` (a streamed response's body) produced inside `context`: a generator runs in
    whoever iterates it, after the view has returned."""
    iterator = iter(items)
    while True:
        token = _current.set(context)
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            _current.reset(token)
        yield item


def finish(context: TenantContext | None, response):
    """Render `response` inside `context` now (a TemplateResponse renders after the view
    returned, and template tags and context processors read models), and make a streamed
    body read inside it too."""
    if getattr(response, "streaming", False):
        response.streaming_content = within(context, response.streaming_content)
    elif callable(getattr(response, "render", None)) and not getattr(
            response, "is_rendered", True):
        with using(context):
            response.render()
    return response
