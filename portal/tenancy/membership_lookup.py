"""A page's membership lookup (`access.resolve_tenant`, every organisation page): one statement
written once per process.

Why not the ORM: the membership with its organisation and whether it is restricted to teams
cost 2.1 ms of CPU to compile on every page, a fifth of a kept page's whole request; this
statement costs a tenth of that (`portal.model_rows` says how). The objects are the ORM's
(`tests/portal/test_access.py` compares them field by field).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import DEFAULT_DB_ALIAS

from portal.model_rows import ModelColumns, column, first_row, joined, model_columns, table
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
           f" AND o.{column(Organization, 'slug', alias)} = %s")
    return _Statement(sql, membership, organization)


def membership_in(user_id: int, slug: str, alias: str = DEFAULT_DB_ALIAS) -> Membership | None:
    """The user's membership in the organisation `slug`, its `organization` loaded and
    `restricted` set (whether it is restricted to teams), or None (one at most: a user is a
    member of an organisation once)."""
    statement = _statement(alias)
    row = first_row(statement.sql, [user_id, slug], alias)
    return None if row is None else joined(row, alias, statement.membership,
                                           statement.organization, "organization", "restricted")
