"""One environment of the caller's organisations, with its organisation: one statement written
once per process (`portal.model_rows`), for API views that read it on every request.

Why: the Talkover-compatible listing read its environment through the API base's
`get_object` — a scoped queryset built, compiled (with the tenant context's subquery) and
turned into models anew each time, a quarter of the listing's CPU. The statement keeps the
same scope: the environment is returned only if the user is a member of its organisation
(another tenant's environment is None, answered 404), as `TenantScopedViewSet`'s
`get_object` scopes it (`tests/portal/test_environment_lookup.py` compares the two).
A member restricted to teams is not served by it (the restriction's conditions are the
ORM's): callers use `get_object` then.
"""
from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS

from portal.model_rows import ModelColumns, column, first_row, model_columns, table
from portal.models import Environment, Membership, Organization

# A bigger id is no row (PostgreSQL would refuse it as a parameter of a bigint comparison).
MAX_ID = 2**63 - 1


@cache
def _statement(alias: str) -> tuple[str, ModelColumns, ModelColumns]:
    env = model_columns(Environment, "e", 0, alias)
    org = model_columns(Organization, "o", env.end, alias)
    env_org = column(Environment, "organization", alias)
    sql = (f"SELECT {', '.join(env.selected + org.selected)}"
           f" FROM {table(Environment, alias)} e JOIN {table(Organization, alias)} o"
           f" ON o.{column(Organization, 'pk', alias)} = e.{env_org}"
           f" WHERE e.{column(Environment, 'pk', alias)} = %s AND EXISTS (SELECT 1 FROM"
           f" {table(Membership, alias)} m WHERE m.{column(Membership, 'organization', alias)}"
           f" = e.{env_org} AND m.{column(Membership, 'user', alias)} = %s)")
    return sql, env, org


def member_environment(pk: int, user_id: int, alias: str = DEFAULT_DB_ALIAS
                       ) -> Environment | None:
    """Environment `pk` with its `organization` loaded if `user_id` is a member of that
    organisation, else None."""
    if not 0 < pk <= MAX_ID:
        return None
    sql, env_columns, org_columns = _statement(alias)
    row = first_row(sql, [pk, user_id], alias)
    if row is None:
        return None
    env = env_columns.build(row, alias)
    env.organization = org_columns.build(row, alias)
    return env
