"""A deployment that ran the old migration chains upgrades to the squashed migrations (one
initial migration per app, each `replaces` its app's old chain) without loss.

The fixture `tests/fixtures/pre_squash_database.sql.gz` is that deployment: `pg_dump --inserts
--no-owner --no-privileges` of a database migrated by the last release with the old chains
(main at 8cf7845), holding a few rows written through the models then (an organisation, an
environment, a user, an agent, three calls in two months, a callback link whose triggers
wrote the funnel's days, a saved view), and the `django_migrations` rows of every old
migration. It cannot be taken again from this code, whose old migrations are gone; it is kept
as the deployments it stands for are.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.support.processes import manage, scratch_database
from tests.support.schema_facts import schema_facts

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "pre_squash_database.sql.gz"
SQUASHED = {("portal", "0001_tenants_and_environments"),
            ("sync", "0001_mirror_and_partitioned_calls"),
            ("reports", "0001_summaries_alerts_and_saved_views")}
# What the deployment stored, read the same way before and after the upgrade.
ROWS = {
    "organisations": "SELECT slug, name, call_retention_months FROM portal_organization",
    "environments": "SELECT name, provider, base_url FROM portal_environment",
    "users": "SELECT username, email, password FROM auth_user",
    "agents": "SELECT external_id, name FROM sync_agent",
    "calls": "SELECT id, external_id, sid, direction, duration, started_at, transcript, "
             "tableoid::regclass::text FROM sync_call ORDER BY id",
    "links": "SELECT callback_external_id, source_external_id, seconds_to_callback "
             "FROM sync_callbacklink",
    "funnel_days": "SELECT day, callbacks_received, called_back, seconds_to_callback "
                   "FROM sync_callbackfunnelday ORDER BY day",
    "saved_views": "SELECT name, page, query FROM reports_savedview",
}


def load_fixture(url: str) -> None:
    """The dump's SQL, without psql's own commands (`\\restrict`), in one transaction."""
    sql = "\n".join(line for line in gzip.decompress(FIXTURE.read_bytes()).decode().splitlines()
                    if not line.startswith("\\"))
    with psycopg.connect(url) as conn:
        conn.execute(sql)


def stored(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in ROWS.items()}


def test_a_database_migrated_by_the_old_chains_reaches_the_squashed_state(tmp_path):
    with scratch_database("pre_squash") as url:
        load_fixture(url)
        before = stored(url)
        assert len(before["calls"]) == 3 and before["funnel_days"], "the fixture holds rows"

        env = {**os.environ, "DATABASE_URL": url}
        # The squashed migrations are recorded, not run; only those added after them run.
        applied = manage(env, "migrate", "--no-input")
        assert not [name for app, name in SQUASHED if f"Applying {app}.{name}" in applied]
        plan = manage(env, "showmigrations", "--plan")
        assert "[ ]" not in plan and all(f"{app}.{name}" in plan for app, name in SQUASHED)

        with psycopg.connect(url) as conn:
            recorded = set(conn.execute("SELECT app, name FROM django_migrations").fetchall())
            upgraded = schema_facts(conn.cursor())
        assert SQUASHED <= recorded
        assert stored(url) == before
        # The same schema as a fresh database migrated by the squashed migrations (this test's).
        with connection.cursor() as cursor:
            fresh = schema_facts(cursor)
        assert upgraded == fresh

        # The funnel's triggers still keep its days: the link gone, its days count nothing.
        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM sync_callbacklink")
            assert conn.execute("SELECT sum(callbacks_received), sum(called_back) "
                                "FROM sync_callbackfunnelday").fetchone() == (0, 0)
