"""Migration 0013_h28a converts an existing mirror's `sync_call` into the partitioned table
(PostgreSQL): every row, index and constraint arrives, and the reverse gives the plain table
back. The old table is built with data at the previous migration state, as an operator's
database would be."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sync", "0012_merge_h25a_h25b_h26a"), ("portal", "0005_h25b_environment_webhook")]
AFTER = [("sync", "0013_h28a_partitioned_calls"), ("portal", "0006_h28a_call_retention")]
# Calls over several months, one years before the others (a deep back-fill), one before 2000.
STARTS = [datetime(2019, 3, 14, 9, tzinfo=UTC), datetime(1999, 12, 31, 23, tzinfo=UTC)] + [
    datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(1500)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def table_facts() -> dict:
    """Indexes (name → definition without ONLY), constraints (name → definition), kind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ',"
                       " ' ON ') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "WHERE i.indrelid = 'sync_call'::regclass")
        indexes = dict(cursor.fetchall())
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'sync_call'::regclass")
        constraints = dict(cursor.fetchall())
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'sync_call'::regclass")
        kind = cursor.fetchone()[0]
    return {"indexes": indexes, "constraints": constraints, "kind": kind}


def rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, environment_id, external_id, sid, agent_id, status, "
                       "duration, started_at, raw::text, transcript FROM sync_call ORDER BY id")
        return cursor.fetchall()


def build_old_mirror(apps) -> None:
    Organization = apps.get_model("portal", "Organization")
    Environment = apps.get_model("portal", "Environment")
    Agent = apps.get_model("sync", "Agent")
    Call = apps.get_model("sync", "Call")
    org = Organization.objects.create(slug="old", name="Old", timezone="UTC")
    env = Environment.objects.create(organization=org, name="Sales")
    agent = Agent.objects.create(environment=env, external_id="ag-1", name="Agent")
    Call.objects.bulk_create([
        Call(environment=env, external_id=f"call-{i}", sid=f"CA{i:06d}", agent=agent,
             agent_external_id="ag-1", status="completed", duration=i % 300, started_at=start,
             raw={"id": f"call-{i}", "n": i}, transcript="hello world" if i % 7 == 0 else "")
        for i, start in enumerate(STARTS)])


def test_an_existing_mirror_is_converted_and_back():
    migrate(BEFORE)
    try:
        build_old_mirror(migrate(BEFORE))
        before_rows, before = rows(), table_facts()
        assert before["kind"] == "r"
        assert {"call_to_number_trgm", "call_sid_upper_trgm", "call_external_id_upper_trgm",
                "call_transcript_fts_present", "call_env_started_ext"} <= set(before["indexes"])

        migrate(AFTER)
        after = table_facts()
        assert after["kind"] == "p"
        assert rows() == before_rows
        # Every index but the two keys is carried as it was; the keys gain the partition key.
        keys = {"sync_call_pkey", "call_natural_key"}
        assert {k: v for k, v in after["indexes"].items() if k not in keys} == {
            k: v for k, v in before["indexes"].items() if k not in keys}
        assert after["constraints"]["sync_call_pkey"] == (
            "PRIMARY KEY (id, started_at, retention_months)")
        assert after["constraints"]["call_natural_key"] == (
            "UNIQUE (environment_id, external_id, started_at, retention_months)")
        foreign = {k: v for k, v in before["constraints"].items() if "FOREIGN" in v}
        assert foreign and all(after["constraints"][k] == v for k, v in foreign.items())
        with connection.cursor() as cursor:
            # Each call sits in its month's forever leaf, the 2019 one included.
            cursor.execute("SELECT tableoid::regclass::text, count(*) FROM sync_call "
                           "GROUP BY 1 ORDER BY 1")
            placed = dict(cursor.fetchall())
            assert placed["sync_call_p201903_t0"] == 1
            assert placed["sync_call_before"] == 1  # outside 2000–2099: the catch-all
            assert sum(placed.values()) == len(STARTS)
            # The identity goes on after the copied ids.
            cursor.execute("INSERT INTO sync_call (environment_id, external_id, started_at, "
                           "raw, payload_hash, first_seen_at, last_changed_at, sid, "
                           "agent_external_id, to_number, to_formatted, from_number, "
                           "from_formatted, direction, status, provider_status, duration, "
                           "is_testing, hangup_cause, hangup_source) SELECT environment_id, "
                           "'new', now(), '{}', '', now(), now(), '', '', '', '', '', '', '', "
                           "'', '', 0, false, '', '' FROM sync_call LIMIT 1 RETURNING id")
            assert cursor.fetchone()[0] == before_rows[-1][0] + 1
            cursor.execute("DELETE FROM sync_call WHERE external_id = 'new'")

        migrate(BEFORE)
        back = table_facts()
        assert back["kind"] == "r" and rows() == before_rows
        assert back["indexes"] == before["indexes"]
    finally:
        migrate(latest())
