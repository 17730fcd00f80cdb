"""The API token's one lookup on every API request: one statement, written once per process.

Why not the ORM: building the same query (the token, its user, whether the user is restricted
to teams anywhere) cost 3.8 ms of CPU a request (Django compiles it anew each time), a third of
a cached report's whole request; this statement, with the rows turned into the two models by
Django's own converters, costs 0.3 ms (`bench/api_load.py`, docs/rendering.md). Tables and
columns are read from the models' `_meta`, so a renamed field or table follows; the results
are the ORM's (`tests/portal/test_api_tokens.py` compares them).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

from portal.models import ApiToken, Membership
from portal.models.teams import RESTRICTABLE_ROLES


@dataclass(frozen=True)
class _Statement:
    sql: str
    roles: tuple[str, ...]
    token: _Columns
    user: _Columns


@dataclass(frozen=True)
class _Columns:
    """One model's columns in the row: its field names and each value's converters."""

    model: type[Model]
    start: int
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple, Any], ...]  # (position, converters, column)

    def build(self, row: tuple, alias: str) -> Model:
        values = list(row[self.start:self.start + len(self.names)])
        connection = connections[alias]
        for i, converters, column in self.converters:
            for convert in converters:
                values[i] = convert(values[i], column, connection)
        return self.model.from_db(alias, self.names, values)


def _columns(model: type[Model], table_alias: str, start: int, alias: str
             ) -> tuple[list[str], _Columns]:
    connection = connections[alias]
    fields: list[Field] = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    converters = []
    for i, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = (*connection.ops.get_db_converters(column),
                 *column.get_db_converters(connection))
        if found:
            converters.append((i, found, column))
    selected = [f"{table_alias}.{quote(field.column)}" for field in fields]
    return selected, _Columns(model, start, tuple(f.attname for f in fields), tuple(converters))


@cache
def _statement(alias: str) -> _Statement:
    quote = connections[alias].ops.quote_name
    user_model = get_user_model()
    teams = Membership.teams.through._meta
    token_cols, token = _columns(ApiToken, "t", 0, alias)
    user_cols, user = _columns(user_model, "u", len(token_cols), alias)
    roles = tuple(sorted(RESTRICTABLE_ROLES))
    membership = Membership._meta
    restricted = (
        f"EXISTS (SELECT 1 FROM {quote(teams.db_table)} x"
        f" JOIN {quote(membership.db_table)} m"
        f" ON m.{quote(membership.pk.column)} = x.{quote(teams.get_field('membership').column)}"
        f" WHERE m.{quote(membership.get_field('user').column)}"
        f" = t.{quote(ApiToken._meta.get_field('user').column)}"
        f" AND m.{quote(membership.get_field('role').column)}"
        f" IN ({', '.join(['%s'] * len(roles))}))")
    sql = (f"SELECT {', '.join(token_cols + user_cols)}, {restricted}"
           f" FROM {quote(ApiToken._meta.db_table)} t"
           f" JOIN {quote(user_model._meta.db_table)} u"
           f" ON u.{quote(user_model._meta.pk.column)}"
           f" = t.{quote(ApiToken._meta.get_field('user').column)}"
           f" WHERE t.{quote(ApiToken._meta.get_field('token_hash').column)} = %s")
    return _Statement(sql, roles, token, user)


def token_by_hash(token_hash: str, alias: str = DEFAULT_DB_ALIAS) -> ApiToken | None:
    """The token with this hash, its `user` loaded and `restricted_somewhere` set (whether the
    user is restricted to teams in any organisation), or None."""
    statement = _statement(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(statement.sql, [*statement.roles, token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    token = statement.token.build(row, alias)
    token.user = statement.user.build(row, alias)
    token.restricted_somewhere = bool(row[-1])
    return token
