"""A page's membership lookup (`access.resolve_tenant`, every organisation page): one query
compiled once per process (`portal.model_rows`).

It reads every membership of the user, each with its organisation, by the organisation's name:
the page's is picked by its slug (`membership_in`), and the others are the frame's organisation
switcher (`render_org_page`), which was a second query. The ORM compiling the membership with
its organisation and whether it is restricted to teams cost 2.1 ms of CPU on every page, a
fifth of a kept page's whole request.
"""
from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, OuterRef, QuerySet

from portal.model_rows import CompiledQuery
from portal.models import Membership


def _memberships(user_id: int) -> QuerySet[Membership]:
    teams = Membership.teams.through.objects.filter(membership=OuterRef("pk"))
    return (Membership.objects.across_organizations().filter(user_id=user_id)
            .select_related("organization").annotate(restricted=Exists(teams))
            .order_by("organization__name"))


_QUERY = CompiledQuery(_memberships, int)


def memberships_of(user_id: int, alias: str = DEFAULT_DB_ALIAS) -> list[Membership]:
    """Every membership of the user, by its organisation's name (as the switcher lists them:
    `organizations_for_user(user).order_by("name")`), each with its `organization` loaded and
    `restricted` set (whether it is restricted to teams)."""
    return _QUERY.objects(alias, user_id)


def membership_in(memberships: list[Membership], slug: str) -> Membership | None:
    """The membership in the organisation `slug` among `memberships` (`memberships_of`), or
    None (one at most: a user is a member of an organisation once)."""
    return next((m for m in memberships if m.organization.slug == slug), None)
