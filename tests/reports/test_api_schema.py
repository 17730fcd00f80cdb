"""The OpenAPI schema documents every endpoint without warnings and is served to members."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

EXPECTED_PATHS = {
    "/api/v1/environments/", "/api/v1/environments/{id}/",
    "/api/v1/environments/{environment_pk}/agents/", "/api/v1/environments/{id}/calls",
    "/api/v1/environments/{id}/agents/{agent_id}/calls",
    "/api/v1/environments/{id}/callback-agents/stats", "/api/v1/reports/calls/",
    "/api/v1/reports/callbacks/", "/api/v1/calls/{id}",
}


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file",
                 str(tmp_path / "schema.yaml"))


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_schema_and_docs_served(cast, api_client_for, who):
    response = api_client_for(cast[who]).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert EXPECTED_PATHS <= set(paths)
    params = {p["name"] for p in paths["/api/v1/reports/calls/"]["get"]["parameters"]}
    assert {"environment", "start_date", "end_date", "interval", "agent_id", "direction",
            "status", "include_testing", "format"} <= params
    assert api_client_for(cast[who]).get("/api/docs/").status_code == 200


def test_schema_needs_login(db):
    assert APIClient().get("/api/schema/").status_code == 401
    assert APIClient().get("/api/docs/").status_code == 401


def test_the_schema_is_the_codes_alone_and_made_once(cast, api_client_for, monkeypatch):
    """Generated for owners of two organisations, the schema is the same: so the served one is
    made once per process (`portal.schema.KeptSchemaGenerator`), whoever asks first."""
    from django.test import RequestFactory
    from drf_spectacular.generators import SchemaGenerator

    from portal.schema import KeptSchemaGenerator

    def generated(user) -> dict:
        request = RequestFactory().get("/api/schema/")
        request.user, request.auth = user, None
        return SchemaGenerator().get_schema(request=request, public=True)

    assert generated(cast["alice"]) == generated(cast["carol"])
    KeptSchemaGenerator.forget()
    made = []
    real = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema",
                        lambda self, **kw: made.append(1) or real(self, **kw))
    bodies = {who: api_client_for(cast[who]).get("/api/schema/", {"format": "json"}).content
              for who in ("alice", "bob", "carol")}
    assert len(set(bodies.values())) == 1 and len(made) == 1
    portuguese = api_client_for(cast["alice"]).get("/api/schema/", {"format": "json",
                                                                     "lang": "pt-br"})
    assert portuguese.status_code == 200 and len(made) == 2
