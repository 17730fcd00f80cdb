"""`sync.health.org_environments` reads the frame's environments through one query compiled
once per process (`portal.model_rows.CompiledQuery`): the same rows as the ORM's
`environments_with_health`, field by field and annotation by annotation, wherever it serves
(outside a tenant context and in a page's own organisation), and the ORM's answer elsewhere
(another organisation's context, a member restricted to teams)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.tenancy import context as tenant_context
from portal.tenancy.context import TenantContext
from portal.tenancy.restriction import Restriction
from sync.health import _read_with_health, environments_with_health
from sync.models import StreamState, SyncRun
from tests.support.cast import make_env

pytestmark = pytest.mark.django_db
ANNOTATIONS = ("last_run_status", "last_run_error", "calls_cursor")


def rows(environments) -> list[dict]:
    return [{**{f.attname: getattr(env, f.attname) for f in type(env)._meta.concrete_fields},
             **{name: getattr(env, name) for name in ANNOTATIONS}} for env in environments]


@pytest.fixture
def history(org_a, env_a, env_b):
    """Two environments of org A (the second named to sort first), runs and cursors."""
    second = make_env(org_a, "A aardvark", "talq_dddddddddddddddddddddddddddd4444")
    SyncRun.objects.create(environment=env_a, stream="calls", status="success",
                           started_at=datetime(2026, 3, 1, tzinfo=UTC))
    SyncRun.objects.create(environment=env_a, stream="calls", status="failed",
                           error="upstream said <no>",
                           started_at=datetime(2026, 3, 2, tzinfo=UTC))
    StreamState.objects.create(environment=env_a, stream="calls",
                               cursor={"backfill": {"done": 3, "days": 90}, "n": [1, 2]})
    StreamState.objects.create(environment=second, stream="agents", cursor={"x": 1})
    SyncRun.objects.create(environment=env_b, stream="calls", status="failed", error="b's")
    return second


def test_the_statement_gives_the_orms_rows(org_a, history):
    expected = rows(environments_with_health(org_a))
    assert len(expected) == 2 and expected[0]["name"] == "A aardvark"
    assert expected[1]["last_run_status"] == "failed" and expected[1]["calls_cursor"]
    assert rows(_read_with_health(org_a)) == expected
    with tenant_context.using(TenantContext(organizations=frozenset((org_a.pk,)))):
        with CaptureQueriesContext(connection) as queries:
            assert rows(_read_with_health(org_a)) == expected
    assert len(queries) == 1 and 'INNER JOIN' not in queries[0]["sql"]


def test_outside_the_statements_scope_the_orm_answers(org_a, org_b, env_a, history):
    with tenant_context.using(TenantContext(organizations=frozenset((org_b.pk,)))):
        assert _read_with_health(org_a) == [] == list(environments_with_health(org_a))
    # A member restricted to a team whose agents are all in env_a: the ORM's restriction
    # keeps that environment only.
    team = Restriction(organizations=frozenset((org_a.pk,)), environments=frozenset(),
                       agents=frozenset(((env_a.pk, "ag-1"),)), teams=frozenset((1,)))
    restricted = TenantContext(organizations=frozenset((org_a.pk,)), teams=team)
    with tenant_context.using(restricted):
        assert [e.pk for e in _read_with_health(org_a)] == [env_a.pk] == [
            e.pk for e in environments_with_health(org_a)]
