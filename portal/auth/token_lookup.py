"""The API token's one lookup on every API request: one query, compiled once per process.

Why: the ORM compiling the same query (the token, its user, whether the user is restricted to
teams anywhere) cost 3.8 ms of CPU a request, a third of a cached report's whole request;
compiled once (`portal.model_rows`) it costs a tenth of that (docs/rendering.md).
"""
from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, OuterRef, QuerySet

from portal.model_rows import CompiledQuery
from portal.models import ApiToken, Membership
from portal.models.teams import RESTRICTABLE_ROLES


def _token(token_hash: str) -> QuerySet[ApiToken]:
    teams = Membership.teams.through.objects.filter(
        membership__user=OuterRef("user"),
        membership__role__in=sorted(RESTRICTABLE_ROLES))
    return (ApiToken.objects.across_organizations().filter(token_hash=token_hash)
            .select_related("user").annotate(restricted_somewhere=Exists(teams)))


_QUERY = CompiledQuery(_token, str)


def token_by_hash(token_hash: str, alias: str = DEFAULT_DB_ALIAS) -> ApiToken | None:
    """The token with this hash, its `user` loaded and `restricted_somewhere` set (whether the
    user is restricted to teams in any organisation), or None."""
    found = _QUERY.objects(alias, token_hash)
    return found[0] if found else None
