"""Our own resources: environments, mirrored agents, call detail — scoped, with no N+1."""
from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from sync.models import Call
from tests.support.factories import make_agents, make_calls


@pytest.fixture
def mirror(env_a, env_b):
    agents = make_agents(env_a, 5)
    make_calls(env_a, 20, date(2026, 3, 1), date(2026, 3, 2), seed=1, agents=agents)
    make_agents(env_b, 2)
    call = Call.objects.filter(environment=env_a).first()
    call.raw = {**call.raw, "call_transcription": [{"role": "agent", "text": "Olá"}]}
    call.save(update_fields=["raw"])
    return {"agents": agents, "call": call}


def test_call_detail_matrix(mirror, cast, api_client_for):
    call = mirror["call"]
    for who in ("alice", "bob"):
        response = api_client_for(cast[who]).get(f"/api/v1/calls/{call.pk}")
        assert response.status_code == 200
        body = response.json()
        assert body["external_id"] == call.external_id
        assert body["raw"]["call_transcription"][0]["text"] == "Olá"
        assert body["agent"]["id"] == call.agent.external_id
    assert api_client_for(cast["carol"]).get(f"/api/v1/calls/{call.pk}").status_code == 404
    assert api_client_for(cast["alice"]).get("/api/v1/calls/999999").status_code == 404
    assert APIClient().get(f"/api/v1/calls/{call.pk}").status_code == 401
    assert api_client_for(cast["bob"]).delete(f"/api/v1/calls/{call.pk}").status_code == 405


def test_agents_list_matrix(env_a, env_b, mirror, cast, api_client_for):
    path = f"/api/v1/environments/{env_a.pk}/agents/"
    for who in ("alice", "bob"):
        response = api_client_for(cast[who]).get(path)
        assert response.status_code == 200
        assert [a["external_id"] for a in response.json()["results"]] == [
            a.external_id for a in sorted(mirror["agents"], key=lambda a: a.name)]
    assert api_client_for(cast["carol"]).get(path).status_code == 404
    carol_own = api_client_for(cast["carol"]).get(f"/api/v1/environments/{env_b.pk}/agents/")
    assert len(carol_own.json()["results"]) == 2
    assert APIClient().get(path).status_code == 401
    filtered = api_client_for(cast["alice"]).get(path, {"search": "Agent 3"}).json()
    assert [a["name"] for a in filtered["results"]] == ["Agent 3"]
    assert api_client_for(cast["alice"]).get(path, {"direction": "up"}).status_code == 400


def test_environment_list_hides_other_orgs_and_tokens(env_a, env_b, cast, api_client_for):
    body = api_client_for(cast["carol"]).get("/api/v1/environments/").json()
    assert [e["id"] for e in body["results"]] == [env_b.pk]
    assert "token_ciphertext" not in body["results"][0]
    assert "talq_bbbb" not in str(body)
    assert api_client_for(cast["carol"]).get(f"/api/v1/environments/{env_a.pk}/").status_code \
        == 404


def test_list_query_counts(env_a, org_a, mirror, alice, api_client_for, assert_max_queries):
    from tests.support.cast import make_env

    for i in range(5):
        make_env(org_a, f"extra {i}", f"talq_{i}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
    # As an API token's one lookup says it (portal/auth/authentication.py): no teams query.
    alice.restricted_somewhere = False
    client = api_client_for(alice)
    with assert_max_queries(2):  # count + page (organisation joined)
        assert len(client.get("/api/v1/environments/").json()["results"]) == 6
    with assert_max_queries(3):  # environment check, count, page
        client.get(f"/api/v1/environments/{env_a.pk}/agents/")
    with assert_max_queries(1):
        client.get(f"/api/v1/calls/{mirror['call'].pk}")
