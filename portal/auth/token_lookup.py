"""The API token's one lookup on every API request: one statement, written once per process.

Why not the ORM: building the same query (the token, its user, whether the user is restricted
to teams anywhere) cost 3.8 ms of CPU a request, a third of a cached report's whole request;
this statement costs 0.37 ms (`portal.model_rows` says how; docs/rendering.md). The results
are the ORM's (`tests/portal/test_api_tokens.py` compares them field by field).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS

from portal.model_rows import ModelColumns, column, first_row, joined, model_columns, table
from portal.models import ApiToken, Membership
from portal.models.teams import RESTRICTABLE_ROLES


@dataclass(frozen=True)
class _Statement:
    sql: str
    roles: tuple[str, ...]
    token: ModelColumns
    user: ModelColumns


@cache
def _statement(alias: str) -> _Statement:
    user_model = get_user_model()
    teams = Membership.teams.through
    token = model_columns(ApiToken, "t", 0, alias)
    user = model_columns(user_model, "u", token.end, alias)
    roles = tuple(sorted(RESTRICTABLE_ROLES))
    restricted = (
        f"EXISTS (SELECT 1 FROM {table(teams, alias)} x JOIN {table(Membership, alias)} m"
        f" ON m.{column(Membership, 'pk', alias)} = x.{column(teams, 'membership', alias)}"
        f" WHERE m.{column(Membership, 'user', alias)} = t.{column(ApiToken, 'user', alias)}"
        f" AND m.{column(Membership, 'role', alias)} IN ({', '.join(['%s'] * len(roles))}))")
    sql = (f"SELECT {', '.join(token.selected + user.selected)}, {restricted}"
           f" FROM {table(ApiToken, alias)} t JOIN {table(user_model, alias)} u"
           f" ON u.{column(user_model, 'pk', alias)} = t.{column(ApiToken, 'user', alias)}"
           f" WHERE t.{column(ApiToken, 'token_hash', alias)} = %s")
    return _Statement(sql, roles, token, user)


def token_by_hash(token_hash: str, alias: str = DEFAULT_DB_ALIAS) -> ApiToken | None:
    """The token with this hash, its `user` loaded and `restricted_somewhere` set (whether the
    user is restricted to teams in any organisation), or None."""
    statement = _statement(alias)
    row = first_row(statement.sql, [*statement.roles, token_hash], alias)
    return None if row is None else joined(row, alias, statement.token, statement.user, "user",
                                           "restricted_somewhere")
