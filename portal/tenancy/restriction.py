"""Teams inside the tenant context: a restricted member reads only their teams' agents.

A member given teams (`portal.models.teams`) carries a `Restriction` in their request's tenant
context (`TenantContext.teams`). Every registered model declares here how a restriction
narrows it (`restrict`, called from each app's `AppConfig.ready` beside `register`), and the
compile-time scoping (`portal.tenancy.query.closed`) adds that condition to every query of a
restricted request, as it adds the organisation's — so no view can forget it:

- `agents`: rows of one agent (calls, agents, rollups per agent, callback links, quality):
  `(environment = e AND agent IN (…)) OR …` with literal ids, one branch per environment, so
  the (environment, …) indexes and the calls' month partitions still serve;
- `environment`: rows of one environment that say nothing of other agents' calls (sync runs,
  cursors, the coverage ledger, the environment itself): kept for the teams' environments;
- `hidden`: one environment's aggregate over every agent (the vendor's daily callback stats,
  the funnel's outbound day, quarantined upstream records): none for a restricted member,
  whose figures are then read from rows per agent;
- `team`: rows that name a team (alert rules and their events, teams): their teams only;
- `open`: organisation rows that hold no calls (members, tokens, subscriptions, …).

A model without a declaration is `hidden`: a restricted member reads none of it (fail closed).
Raw SQL readers (the grouped rollup sums) add `sql_condition()` to their WHERE.

`others` is set where the context also covers organisations the member is not restricted in
(the API: every organisation of the caller): rows outside the restricted environments pass.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db import models
from django.db.models import Q

from portal.tenancy import context

__all__ = ["Restriction", "active", "agents_q", "declared", "narrowing", "restrict",
           "restriction_q", "sql_condition"]

KINDS = ("agents", "environment", "hidden", "team", "open")


@dataclass(frozen=True)
class Restriction:
    """What a restricted member may read: their teams' (environment id, agent id) pairs."""

    organizations: frozenset[int]  # where the member is restricted
    environments: frozenset[int]  # every environment of those organisations
    agents: frozenset[tuple[int, str]]  # (environment id, upstream agent id)
    teams: frozenset[int]
    others: bool = False  # the context covers other organisations, unrestricted
    names: tuple[str, ...] = field(default=(), compare=False)  # the teams' names, for pages

    @cached_property
    def by_environment(self) -> dict[int, list[str]]:
        grouped: dict[int, list[str]] = defaultdict(list)
        for env, agent in sorted(self.agents):
            grouped[env].append(agent)
        return dict(grouped)

    @property
    def team_environments(self) -> list[int]:
        return sorted(self.by_environment)

    def allows(self, environment_id: int, agent_id: str | None) -> bool:
        if self.others and environment_id not in self.environments:
            return True
        return (environment_id, agent_id or "") in self.agents

    @cached_property
    def fingerprint(self) -> str:
        """A short stable name of this restriction, for cache keys (`reports.cache`)."""
        text = repr((sorted(self.agents), sorted(self.teams), self.others,
                     sorted(self.environments) if self.others else ()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TeamReach:
    kind: str
    environment: str = "environment"  # the model's environment column ("pk": Environment)
    agents: tuple[str, ...] = ()  # `agents`: the upstream agent id column(s)
    team: str = ""  # `team`: the path to the team id
    organization: str = "organization"  # `team`: the path to the organisation id


_DECLARED: dict[type[models.Model], TeamReach] = {}


def restrict(*models_: type[models.Model], kind: str, environment: str = "environment",
             agents: tuple[str, ...] = (), team: str = "",
             organization: str = "organization") -> None:
    """Declare how a restricted member's context narrows `models_` (see the module)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if kind == "agents" and not agents:
        raise ValueError("kind='agents' needs agents=(column, …)")
    if kind == "team" and not team:
        raise ValueError("kind='team' needs team=path")
    for model in models_:
        _DECLARED[model] = TeamReach(kind, environment, agents, team, organization)


def declared() -> dict[type[models.Model], TeamReach]:
    return dict(_DECLARED)


def active() -> Restriction | None:
    """The current request's restriction (None: unrestricted, or no request)."""
    ctx = context.current()
    return getattr(ctx, "teams", None) if ctx is not None else None


def narrowing(environment_ids) -> Restriction | None:
    """The current restriction when it narrows rows of `environment_ids` (None: unrestricted,
    or a caller restricted only in other organisations, who reads these whole)."""
    restriction = active()
    if restriction is None or (restriction.others
                               and not set(environment_ids) & restriction.environments):
        return None
    return restriction


def agents_q(restriction: Restriction, environment: str, agent: str) -> Q:
    """Rows whose (`environment`, `agent`) columns name one of the restriction's agents — for
    a reader that must follow one agent column where the model declares several (a callback
    link's source agent: the outbound calls a team's agents made)."""
    return _any([Q(**{environment: environment_id, f"{agent}__in": agent_ids})
                 for environment_id, agent_ids in restriction.by_environment.items()])


def _nothing() -> Q:
    return Q(pk__in=[])


def _any(parts: list[Q]) -> Q:
    if not parts:
        return _nothing()
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def restriction_q(model: type[models.Model], restriction: Restriction) -> Q:
    """The condition that keeps `model`'s rows a restricted member may read."""
    how = _DECLARED.get(model, TeamReach("hidden"))
    if how.kind == "open":
        return Q()
    parts: list[Q] = []
    if how.kind == "team":
        parts.append(Q(**{f"{how.team}__in": sorted(restriction.teams)}))
        if restriction.others:
            parts.append(~Q(**{f"{how.organization}__in": sorted(restriction.organizations)}))
        return _any(parts)
    env = how.environment
    if how.kind == "agents" and restriction.agents:
        parts.extend(agents_q(restriction, env, column) for column in how.agents)
    elif how.kind == "environment":
        if restriction.team_environments:
            parts.append(Q(**{f"{env}__in": restriction.team_environments}))
    if restriction.others:
        parts.append(~Q(**{f"{env}__in": sorted(restriction.environments)}))
    return _any(parts)


def sql_condition(environment_column: str = "environment_id",
                  agent_column: str = "agent_external_id") -> tuple[str, list]:
    """` AND (…)` and its parameters limiting raw SQL over rows per agent to the current
    restriction; ("", []) when the request is not restricted."""
    restriction = active()
    if restriction is None:
        return "", []
    parts, params = [], []
    for environment_id, agent_ids in restriction.by_environment.items():
        parts.append(f"({environment_column} = %s AND {agent_column} IN "
                     f"({', '.join(['%s'] * len(agent_ids))}))")
        params.extend([environment_id, *agent_ids])
    if restriction.others and restriction.environments:
        parts.append(f"{environment_column} NOT IN "
                     f"({', '.join(['%s'] * len(restriction.environments))})")
        params.extend(sorted(restriction.environments))
    if not parts:
        return " AND 1 = 0", []
    return f" AND ({' OR '.join(parts)})", params
