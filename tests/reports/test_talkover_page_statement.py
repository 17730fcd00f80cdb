"""The compatible listing's page statement, compiled once per process and shape
(`reports.talkover.listing._page_statement`, a `portal.model_rows.CompiledQuery`).

Its pages must be the ORM's, byte for byte, for every filter shape, with and without the
agent object, inside a tenant context; and a page after the first compiles no calls query.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db.models.sql.compiler import SQLCompiler

from portal.tenancy import context as tenant_context
from portal.tenancy.context import TenantContext
from reports.days import local_day_bounds
from reports.talkover.compat import json_bytes
from reports.talkover.listing import (
    ORDER,
    CallQuery,
    _as_items,
    _calls,
    _items,
    _page_rows,
)
from sync.models import Call
from tests.support.factories import make_agents, make_calls

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2026, 3, 1), date(2026, 3, 6)


@pytest.fixture
def mirror(env_a, env_b):
    agents = make_agents(env_a, 2)
    make_calls(env_a, 240, FIRST, LAST, seed=5, agents=agents, testing_share=0.2)
    make_calls(env_a, 30, FIRST, LAST, seed=6)  # calls without an agent
    make_calls(env_b, 60, FIRST, LAST, seed=7)  # another tenant's, never listed
    # Fractional seconds the upstream sent are written back as it wrote them.
    some = Call.objects.filter(environment=env_a).order_by("pk")[:40].values_list("pk", flat=True)
    for i, pk in enumerate(some):
        call = Call.objects.get(pk=pk)
        call.started_at += timedelta(microseconds=(i + 1) * 12_500)
        call.upstream_updated_at = call.started_at + timedelta(microseconds=500_000)
        call.save(update_fields=["started_at", "upstream_updated_at"])
    return agents


def queries(agents) -> list[CallQuery]:
    agent = agents[0].external_id
    return [CallQuery(page=1, per_page=100),
            CallQuery(page=1, per_page=100, status="completed"),
            CallQuery(page=1, per_page=100, direction="inbound", status="no-answer"),
            CallQuery(page=1, per_page=100, agent_id=agent),
            CallQuery(page=1, per_page=100, agent_id=agent, direction="outbound",
                      status="completed", date_from=date(2026, 3, 2),
                      date_to=date(2026, 3, 4))]


@pytest.mark.parametrize("with_agent", [True, False])
def test_a_page_is_the_orms_page_byte_for_byte(env_a, mirror, with_agent):
    tz = env_a.organization.tzinfo
    ctx = TenantContext(organizations=frozenset({env_a.organization_id}))
    with tenant_context.using(ctx):
        for query in queries(mirror):
            # The span of days a page's day counts give: inside `date_from`..`date_to`.
            started = (local_day_bounds(query.date_from or FIRST, tz)[0],
                       local_day_bounds(query.date_to or LAST, tz)[1])
            for skip, limit in ((0, 100), (7, 13), (95, 100)):
                orm = _items(_calls(env_a, query).filter(
                    started_at__gte=started[0], started_at__lt=started[1]
                ).order_by(*ORDER)[skip:skip + limit], with_agent)
                compiled = _as_items(_page_rows(env_a, query, with_agent, started, skip,
                                                limit), with_agent)
                assert orm or skip, query
                assert json_bytes({"data": compiled}) == json_bytes({"data": orm}), query


def test_a_later_page_compiles_no_calls_query(env_a, mirror, alice, api_client_for, monkeypatch):
    client = api_client_for(alice)
    path = f"/api/v1/environments/{env_a.pk}/calls"
    assert client.get(path, {"status": "busy", "per_page": 10}).status_code == 200
    compiled_models = []
    as_sql = SQLCompiler.as_sql

    def recording(self, *args, **kwargs):
        compiled_models.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", recording)
    for params in ({"status": "completed", "per_page": 10, "page": 3},
                   {"status": "completed", "per_page": 10, "page": 4}):
        response = client.get(path, params)
        assert response.status_code == 200 and len(response.json()["data"]) == 10
    assert Call not in compiled_models, compiled_models
