"""A page's drill links come from one resolved base (`reports.drill.Drill`) and are exactly
the links the reference spelling builds (`explorer_url(explorer_params(…))`), whatever the
scope and the narrowing: awkward agent ids, several environments, a scope's own agent and
direction, weekday and hour, a series point's days.
"""
from __future__ import annotations

import itertools
from datetime import date
from types import SimpleNamespace

import pytest

from reports.drill import OUTCOMES, Drill, explorer_params, explorer_url

AGENTS = [None, "", "agent-7", "Agente São Paulo & Co + 1", "a/b?c=d#e", "-"]


def scopes():
    envs = [SimpleNamespace(pk=3), SimpleNamespace(pk=12)]
    for environments, agent_ids, direction in itertools.product(
            [[], envs[:1], envs], [[], ["scope agent/ç"]], [None, "", "inbound"]):
        yield SimpleNamespace(start=date(2026, 2, 1), end=date(2026, 3, 2),
                              environments=environments, agent_ids=agent_ids,
                              direction=direction)


@pytest.mark.parametrize("scope", list(scopes()))
def test_one_base_builds_the_reference_links(scope):
    drill = Drill("org-a", scope)
    narrowings = [{}, {"start": date(2026, 2, 9), "end": date(2026, 2, 15)},
                  {"weekday": 0, "hour": 23}, {"weekday": 6, "hour": 0},
                  {"direction": "outbound"}, {"env_id": 12}]
    narrowings += [{"outcome": o} for o in OUTCOMES]
    narrowings += [{"env_id": 3, "agent_id": a, "outcome": "answered"} for a in AGENTS]
    for narrow in narrowings:
        assert drill.url(**narrow) == explorer_url("org-a", explorer_params(scope, **narrow))
        assert drill.door(5, **narrow).calls == 5
    with pytest.raises(ValueError):
        drill.url(outcome="exploded")
