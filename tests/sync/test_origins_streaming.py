"""Origins call_stats read as a stream: memory holds one chunk, odd bodies fail clearly,
values outside the documented sets are kept and noted once per run (one-off bodies served by
`responses`; the simulator's own faults are in test_sync_origins)."""
from __future__ import annotations

import json

import pytest
import responses

from sync.engine import sync_environment
from sync.models import Call, RejectedRecord, SyncRun
from sync.models.core import RunStatus
from sync.providers.origins import streams as origins_stream
from sync.providers.origins.client import OriginsClient
from sync.quarantine import DUPLICATE_ID
from sync.write import batch_writer
from sync.write.batch_writer import BatchWriter
from tests.support.origins import AGENTS, BASE, env_for, origins_env
from tests.support.sync_support import served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

URL = f"{BASE}/api/agents/7/call_stats"


def record(n: int, **fields) -> dict:
    return {"call_id": f"00000000-0000-4000-8000-{n:012d}", "call_agent_id": 7,
            "call_status": "ANSWERED", "initiation_time": "2026-03-01T12:00:00Z",
            "answer_time": "2026-03-01T12:00:05Z", "end_time": "2026-03-01T12:01:05Z",
            "hangup_cause_name": "NORMAL_CLEARING", "call_direction": "inbound",
            "call_duration": 60, "billed_duration": 60, **fields}


def calls_run(env):
    outcome = sync_environment(env)
    return outcome.runs[-1]


@responses.activate
def test_unknown_values_are_kept_as_sent_and_noted_once(org_a):
    body = [record(1, call_status="RINGING"), record(2, call_status="RINGING"),
            record(3, call_status="FAILED", hangup_cause_name="ORIGINATOR_CANCEL"),
            record(4, call_status="FAILED", hangup_cause_name="USER_BUSY"),
            record(5, call_status="FAILED", hangup_cause_name="NO_ANSWER",
                   call_direction="sideways")]
    responses.get(URL, body=json.dumps(body))
    env = env_for(org_a)
    run = calls_run(env)
    assert run.status == RunStatus.SUCCEEDED and run.created == 5
    noted = ["call_status='RINGING'", "hangup_cause_name='ORIGINATOR_CANCEL'",
             "call_direction='sideways'"]
    assert run.details["unknown_values"] == noted
    again = calls_run(env)  # nothing changed: nothing written, the same notes
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert again.details["unknown_values"] == noted
    got = {c.external_id[-1]: (c.status, c.provider_status, c.hangup_cause)
           for c in Call.objects.all()}
    # An unknown status word is kept as sent, never blanked.
    assert got == {"1": ("RINGING", "RINGING", "NORMAL_CLEARING"),
                   "2": ("RINGING", "RINGING", "NORMAL_CLEARING"),
                   "3": ("failed", "FAILED", "ORIGINATOR_CANCEL"),
                   "4": ("busy", "FAILED", "USER_BUSY"),
                   "5": ("no-answer", "FAILED", "NO_ANSWER")}
    assert Call.objects.get(external_id__endswith="5").raw["call_direction"] == "sideways"
    assert Call.objects.get(external_id__endswith="5").direction == "sideways"


@responses.activate
@pytest.mark.parametrize("body, message", [
    (b'{"detail": "Not authenticated"}', "expected a JSON array of call records, found "
                                         "a JSON object"),
    (b"", "expected a JSON array of call records, found an empty body"),
    (b"<html>oops</html>", "found an HTML page"),
])
def test_a_body_that_is_not_an_array_fails_the_run_clearly(org_a, body, message):
    responses.get(URL, body=body)
    run = calls_run(env_for(org_a))
    assert run.status == RunStatus.FAILED and message in run.error, run.error
    assert not Call.objects.exists()


@responses.activate
def test_a_body_broken_every_time_fails_after_retries_and_writes_nothing(org_a,
                                                                        monkeypatch):
    monkeypatch.setattr(origins_stream, "CHUNK", 2)
    monkeypatch.setattr(OriginsClient, "backoff_pause", lambda self, attempt: None)
    whole = json.dumps([record(n) for n in range(1, 6)])
    responses.get(URL, body=whole[: whole.index(record(5)["call_id"]) - 5])
    run = calls_run(env_for(org_a))
    assert run.status == RunStatus.FAILED
    assert "the body broke off after 4 records (IncompleteJSONError), 6 times" in run.error
    assert Call.objects.count() == 0, "an answer that never ends whole writes nothing"
    assert run.requests == 6


def test_the_answer_is_spooled_whole_then_written_a_chunk_at_a_time(org_a, monkeypatch):
    """Records are pulled from the parser into a spool file (memory holds one record and the
    ids); nothing is written before the whole answer was read, then CHUNK rows at a time go
    to the writer, which merges BATCH_ROWS at a time."""
    monkeypatch.setattr(origins_stream, "CHUNK", 5)
    monkeypatch.setattr(origins_stream, "BATCH_ROWS", 10)
    pulled, ahead, sizes, merged = [0], [], [], []
    real_call_stats, real_add = OriginsClient.call_stats, BatchWriter.add
    real_upsert = batch_writer.upsert_keys

    def counting_call_stats(self, agent_id):
        records = real_call_stats(self, agent_id)
        assert not isinstance(records, list), "records must arrive as they are parsed"

        def counted():
            for item in records:
                pulled[0] += 1
                yield item
        return counted()

    def watching_add(self, rows, **kw):
        ahead.append(pulled[0])
        sizes.append(len(rows))
        return real_add(self, rows, **kw)

    def watching_upsert(model, env, rows, **kw):
        if model is Call:
            merged.append(len(rows))
        return real_upsert(model, env, rows, **kw)

    monkeypatch.setattr(OriginsClient, "call_stats", counting_call_stats)
    monkeypatch.setattr(BatchWriter, "add", watching_add)
    monkeypatch.setattr(batch_writer, "upsert_keys", watching_upsert)
    with served(small_config()) as (sim, server):
        env = origins_env(org_a, sim, server, agent_ids=AGENTS[:1])
        outcome = sync_environment(env, now=sim.now)
    assert not outcome.failed
    assert len(ahead) > 10 and max(sizes) <= 5
    assert set(ahead) == {pulled[0]}, "every write comes after the whole answer was read"
    assert len(merged) > 5 and max(merged) <= 10 and sum(merged) == sum(sizes)
    assert Call.objects.filter(environment=env).count() == sum(sizes)


@responses.activate
def test_an_id_repeated_in_another_chunk_quarantines_every_copy(org_a, monkeypatch):
    monkeypatch.setattr(origins_stream, "CHUNK", 2)
    env = env_for(org_a)
    responses.get(URL, body=json.dumps([record(n) for n in range(1, 6)]))
    assert calls_run(env).status == RunStatus.SUCCEEDED
    before = {c.external_id: (c.status, c.duration, c.started_at, c.raw)
              for c in Call.objects.all()}
    # The copy of call 1 comes three chunks after it, with another call's values.
    impostor = record(1, call_status="FAILED", call_duration=999,
                      initiation_time="2026-03-02T08:00:00Z", sid="impostor")
    responses.replace(responses.GET, URL, body=json.dumps(
        [record(1), record(2), record(3, call_duration=61), record(4), record(5),
         impostor]))
    run = SyncRun.objects.get(pk=calls_run(env).pk)
    assert run.status == RunStatus.SUCCEEDED and run.rejected == 2
    rejected = RejectedRecord.objects.filter(environment=env, stream="calls")
    assert sorted(json.loads(r.payload).get("sid", "kept") for r in rejected) == \
        ["impostor", "kept"], "both copies kept whole"
    assert {r.reason for r in rejected} == {DUPLICATE_ID.format(count=2)}
    assert record(1)["call_id"] in run.details["duplicate_ids"][0]
    after = {c.external_id: (c.status, c.duration, c.started_at, c.raw)
             for c in Call.objects.all()}
    key1, key3 = record(1)["call_id"], record(3)["call_id"]
    assert after[key1] == before[key1], "the mirrored call keeps its last good values"
    assert after[key3][1] == 61 and run.updated == 1, "the other records are written"


@responses.activate
def test_an_answer_cut_by_the_record_cap_writes_nothing(org_a, monkeypatch, settings):
    monkeypatch.setattr(origins_stream, "CHUNK", 2)
    env = env_for(org_a)
    responses.get(URL, body=json.dumps([record(n) for n in range(1, 4)]))
    assert calls_run(env).status == RunStatus.SUCCEEDED
    before = {c.external_id: (c.status, c.duration, c.raw) for c in Call.objects.all()}
    settings.UPSTREAM_MAX_STREAM_RECORDS = 4
    responses.replace(responses.GET, URL, body=json.dumps(
        [record(n, call_duration=90 + n) for n in range(1, 8)]))
    run = calls_run(env)
    assert run.status == RunStatus.FAILED and "over 4 records" in run.error, run.error
    after = {c.external_id: (c.status, c.duration, c.raw) for c in Call.objects.all()}
    assert after == before, "no chunk of a capped answer is written"


@responses.activate
def test_with_debug_the_sync_keeps_no_log_of_its_statements(org_a, settings):
    # With DEBUG (the embedded default) Django logged every statement with
    # its parameters; a first Origins sync of 100,000 wide records peaked at 368 MiB, nearly
    # all of it that log (bench/origins_memory.py --debug).
    from django.db import connection

    settings.DEBUG = True
    responses.get(URL, body=json.dumps([record(n) for n in range(1, 51)]))
    run = calls_run(env_for(org_a))
    assert run.status == RunStatus.SUCCEEDED and run.created == 50
    logged = [query["sql"] for query in connection.queries_log]
    assert not any(record(7)["call_id"] in sql for sql in logged), "records' statements kept"
