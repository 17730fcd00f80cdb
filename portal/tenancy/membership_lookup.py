"""A page's membership lookup (`access.resolve_tenant`, every organisation page): one statement
written once per process.

It reads every membership of the user, each with its organisation, by the organisation's name:
the page's is picked by its slug, and the others are the frame's organisation switcher
(`render_org_page`), which was a second query, compiled by the ORM on every page.

Why not the ORM: the membership with its organisation and whether it is restricted to teams
cost 2.1 ms of CPU to compile on every page, a fifth of a kept page's whole request; this
statement costs a tenth of that (`portal.model_rows` says how). The objects are the ORM's
(`tests/portal/test_access.py` compares them field by field).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections

from portal.model_rows import ModelColumns, column, joined, model_columns, table
from portal.models import Membership, Organization


@dataclass(frozen=True)
class _Statement:
    sql: str
    membership: ModelColumns
    organization: ModelColumns


@cache
def _statement(alias: str) -> _Statement:
    teams = Membership.teams.through
    membership = model_columns(Membership, "m", 0, alias)
    organization = model_columns(Organization, "o", membership.end, alias)
    m_pk = column(Membership, "pk", alias)
    restricted = (f"EXISTS (SELECT 1 FROM {table(teams, alias)} x"
                  f" WHERE x.{column(teams, 'membership', alias)} = m.{m_pk})")
    sql = (f"SELECT {', '.join(membership.selected + organization.selected)}, {restricted}"
           f" FROM {table(Membership, alias)} m JOIN {table(Organization, alias)} o"
           f" ON o.{column(Organization, 'pk', alias)}"
           f" = m.{column(Membership, 'organization', alias)}"
           f" WHERE m.{column(Membership, 'user', alias)} = %s"
           f" ORDER BY o.{column(Organization, 'name', alias)}")
    return _Statement(sql, membership, organization)


def memberships_of(user_id: int, alias: str = DEFAULT_DB_ALIAS) -> list[Membership]:
    """Every membership of the user, by its organisation's name (as the switcher lists them:
    `organizations_for_user(user).order_by("name")`), each with its `organization` loaded and
    `restricted` set (whether it is restricted to teams)."""
    statement = _statement(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(statement.sql, [user_id])
        rows = cursor.fetchall()
    return [joined(row, alias, statement.membership, statement.organization, "organization",
                   "restricted") for row in rows]


def membership_in(user_id: int, slug: str, alias: str = DEFAULT_DB_ALIAS) -> Membership | None:
    """The user's membership in the organisation `slug` (see `memberships_of`), or None (one
    at most: a user is a member of an organisation once)."""
    return next((m for m in memberships_of(user_id, alias) if m.organization.slug == slug),
                None)
