"""The Talkover-compatible API serves Talkover's environments only: any other provider's
environment (Origins AI, Vapi, the next one) answers every compatible endpoint with a clear
404 in Talkover's error shape that names the provider and where its calls are, before any
parameter is read; a Talkover environment of the same organisation is served as before."""
from __future__ import annotations

from datetime import date

import pytest

from portal.models import Provider
from portal.providers import spec_for
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_calls

ENDPOINTS = ("calls", "agents/{agent}/calls", "callback-agents/stats")
# Parameters that a served environment answers with a 422: the 404 comes first.
BAD = {"calls": {"per_page": "0"}, "agents/{agent}/calls": {"status": "nope"},
       "callback-agents/stats": {"start_date": "yesterday"}}
OTHERS = [p for p in Provider.values if not spec_for(p).compatible_api]


def _get(client, env, tail, agent, params=None):
    return client.get(f"/api/v1/environments/{env.pk}/{tail.format(agent=agent)}", params or {})


def test_some_provider_is_not_served_by_it():
    """Else the test below would check nothing."""
    assert OTHERS and len(OTHERS) < len(Provider.values)


@pytest.mark.parametrize("provider", OTHERS)
@pytest.mark.parametrize("tail", ENDPOINTS)
def test_another_providers_environment_is_a_clear_404(provider, tail, org_a, env_a, alice,
                                                      api_client_for):
    other = make_env(org_a, f"Other {provider}", f"tok_{provider}_0123456789abcdef",
                     provider=provider)
    agent = make_agents(other, 1)[0].external_id
    make_calls(other, 5, date(2026, 3, 1), date(2026, 3, 2), seed=3)
    client = api_client_for(alice)
    for params in ({}, BAD[tail]):
        answer = _get(client, other, tail, agent, params)
        assert answer.status_code == 404, (tail, params, answer.content)
        body = answer.json()
        assert body["success"] is False
        assert spec_for(provider).label in body["message"]
        assert "Talkover-compatible" in body["message"]
    # The same organisation's Talkover environment is served (the 404 is the provider's).
    served = make_agents(env_a, 1, prefix="served")[0].external_id
    assert _get(client, env_a, tail, served).status_code == 200
    assert _get(client, env_a, tail, served, BAD[tail]).status_code == 422
