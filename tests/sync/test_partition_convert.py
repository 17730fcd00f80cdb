"""`sync.partitions.convert` turns a plain `sync_call` holding calls into the partitioned table
(the sync migration runs it on the table Django creates; `manage.py` commands of operators
ran it on mirrors of millions of calls): every row, index and constraint arrives, and the
reverse (the migration's) gives the plain table back."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from portal.models import Environment, Organization
from sync.models import Agent, Call
from sync.partitions.convert import to_partitioned, to_plain

pytestmark = pytest.mark.django_db(transaction=True)

# Calls over several months, one years before the others (a deep back-fill), one before 2000.
STARTS = [datetime(2019, 3, 14, 9, tzinfo=UTC), datetime(1999, 12, 31, 23, tzinfo=UTC)] + [
    datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(1500)]


def convert(function) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        function(cursor)


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


def build_mirror() -> None:
    org = Organization.objects.create(slug="old", name="Old", timezone="UTC")
    env = Environment.objects.create(organization=org, name="Sales")
    agent = Agent.objects.create(environment=env, external_id="ag-1", name="Agent")
    Call.objects.bulk_create([
        Call(environment=env, external_id=f"call-{i}", sid=f"CA{i:06d}", agent=agent,
             agent_external_id="ag-1", status="completed", duration=i % 300, started_at=start,
             raw={"id": f"call-{i}", "n": i}, transcript="hello world" if i % 7 == 0 else "")
        for i, start in enumerate(STARTS)])


def test_a_plain_mirror_is_converted_and_back():
    convert(to_plain)
    try:
        build_mirror()
        before_rows, before = rows(), table_facts()
        assert before["kind"] == "r"
        assert {"call_env_search_gin", "call_outbound_dialled", "call_inbound_caller",
                "call_env_started"} <= set(before["indexes"])

        convert(to_partitioned)
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

        convert(to_plain)
        back = table_facts()
        assert back["kind"] == "r" and rows() == before_rows
        assert back["indexes"] == before["indexes"]
    finally:
        if table_facts()["kind"] == "r":
            convert(to_partitioned)
