"""One environment of the caller's organisations, with its organisation: one query compiled
once per process (`portal.model_rows`), for API views that read it on every request.

Why: the Talkover-compatible listing read its environment through the API base's
`get_object` — a scoped queryset built, compiled (with the tenant context's subquery) and
turned into models anew each time, a quarter of the listing's CPU. The query keeps the
same scope: the environment is returned only if the user is a member of its organisation
(another tenant's environment is None, answered 404), as `TenantScopedViewSet`'s
`get_object` scopes it (`tests/portal/test_environment_lookup.py` compares the two).
A member restricted to teams is not served by it (the restriction's conditions are the
context's): callers use `get_object` then.
"""
from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet

from portal.model_rows import CompiledQuery
from portal.models import Environment, Membership

# A bigger id is no row (PostgreSQL would refuse it as a parameter of a bigint comparison).
MAX_ID = 2**63 - 1


def _member_environment(pk: int, user_id: int) -> QuerySet[Environment]:
    organizations = Membership.objects.across_organizations().filter(
        user_id=user_id).values("organization")
    return Environment.objects.across_organizations().select_related("organization").filter(
        pk=pk, organization__in=organizations)


_QUERY = CompiledQuery(_member_environment, int, int)


def member_environment(pk: int, user_id: int, alias: str = DEFAULT_DB_ALIAS
                       ) -> Environment | None:
    """Environment `pk` with its `organization` loaded if `user_id` is a member of that
    organisation, else None."""
    if not 0 < pk <= MAX_ID:
        return None
    found = _QUERY.objects(alias, pk, user_id)
    return found[0] if found else None
