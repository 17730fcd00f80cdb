"""Sharding by organisation (docs/scaling.md, "Beyond one primary") as a checked contract.

1. Every tenant table carries its tenant key itself: `organization_id`, or `environment_id`
   (one hop, the environment's organisation), but for the few named in `TWO_HOPS`, which the
   sharding step gives an `organization_id` first. A new tenant table without either fails.
2. Every statement a report face runs — the report pages, the reports API, the
   Talkover-compatible API, CSV exports, the wallboard — that reads a tenant table filters
   it by its tenant key (the tenancy context, `portal.tenancy.query`, adds
   `organization_id IN (…)` / `environment_id IN (…)`; the report queries name their
   environments), so each would be routed to the one shard of its organisation.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.tenancy.reach import registered
from tests.support.factories import make_agents, make_calls, mark_read

pytestmark = pytest.mark.django_db
START, END = date(2026, 3, 1), date(2026, 3, 14)
# Reached through a parent row today; given their own organisation_id before sharding.
TWO_HOPS = {"reports_reportdelivery", "reports_bannerdismissal"}
# Tables of users, not of one organisation (reference tables on every node).
USERS = {"auth_user", "portal_apitoken"}
KEYS = ("organization_id", "environment_id")


def tenant_tables() -> dict[str, type]:
    return {model._meta.db_table: model for model in registered()}


def test_every_tenant_table_carries_its_tenant_key():
    without = set()
    for table, model in tenant_tables().items():
        columns = {field.column for field in model._meta.concrete_fields}
        if table == "portal_organization" or table in USERS:
            continue
        if not columns & set(KEYS):
            without.add(table)
    assert without == TWO_HOPS


def _faces(start: str, end: str, env_id: int, agent: str) -> list[str]:
    return [
        f"/o/org-a/?start={start}&end={end}", f"/o/org-a/agents/?start={start}&end={end}",
        f"/o/org-a/callbacks/?start={start}&end={end}", f"/o/org-a/calls/?start={start}&end={end}",
        f"/o/org-a/quality/?start={start}&end={end}", f"/o/org-a/outcomes/?start={start}&end={end}",
        "/o/org-a/live/", "/o/org-a/live/data/",
        f"/o/org-a/?start={start}&end={end}&format=csv&table=days",
        f"/o/org-a/calls/?start={start}&end={end}&format=csv",
        f"/api/v1/reports/calls/?environment={env_id}&start_date={start}&end_date={end}",
        f"/api/v1/reports/callbacks/?environment={env_id}&start_date={start}&end_date={end}",
        f"/api/v1/reports/callback-funnel/?environment={env_id}&start_date={start}"
        f"&end_date={end}",
        f"/api/v1/reports/calls/?environment={env_id}&start_date={start}&end_date={end}"
        "&format=csv&table=agents",
        f"/api/v1/reports/outcomes/?environment={env_id}&start_date={start}&end_date={end}",
        f"/api/v1/environments/{env_id}/calls?start_date={start}&end_date={end}",
        f"/api/v1/environments/{env_id}/agents/{agent}/calls?start_date={start}&end_date={end}",
        f"/api/v1/environments/{env_id}/callback-agents/stats?start_date={start}"
        f"&end_date={end}",
    ]


def unfiltered(statement: str, tables: dict[str, type]) -> list[str]:
    """The tenant tables `statement` reads without a tenant key in its text."""
    named = [t for t in tables if re.search(rf'\b"?{t}"?\b', statement)]
    tenant = [t for t in named if t not in USERS and t not in TWO_HOPS]
    if not tenant or re.search(r"\b(organization_id|environment_id)\b", statement):
        return []
    if tenant == ["portal_organization"] and re.search(
            r'"portal_organization"\."id" (=|IN)', statement):
        return []
    return tenant


def test_every_report_statement_filters_by_the_tenant_key(client, org_a, env_a, alice):
    agents = make_agents(env_a, 2)
    make_calls(env_a, 120, START, END, seed=5, agents=agents, testing_share=0)
    mark_read(env_a, START - timedelta(days=5), END + timedelta(days=3))
    client.force_login(alice)
    faces = _faces(START.isoformat(), END.isoformat(), env_a.pk, agents[0].external_id)
    tables = tenant_tables()
    found: dict[str, list[str]] = {}
    answered = 0
    for path in faces:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, HTTP_AUTHORIZATION="") if path.startswith("/o/") \
                else client.get(path)
            body = b"".join(response.streaming_content) if response.streaming \
                else response.content
        assert response.status_code == 200, (path, body[:300])
        answered += 1
        for query in queries.captured_queries:
            if missing := unfiltered(query["sql"], tables):
                found.setdefault(path, []).append(f"{missing}: {query['sql'][:300]}")
    assert answered == len(faces)
    assert found == {}
