"""Origins call_stats read as a stream: memory holds one chunk, odd bodies fail clearly,
values outside the documented sets are kept and noted once per run (one-off bodies served by
`responses`; the simulator's own faults are in test_sync_origins)."""
from __future__ import annotations

import json

import pytest
import responses

from portal.models import Environment, Provider
from sync.engine import sync_environment
from sync.models import Call, RunStatus
from sync.providers.origins import streams as origins_stream
from sync.providers.origins.client import OriginsClient
from tests.sync_support import served, small_config
from tests.test_sync_origins import AGENTS, origins_env

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "https://origins.test"
URL = f"{BASE}/api/agents/7/call_stats"


def record(n: int, **fields) -> dict:
    return {"call_id": f"00000000-0000-4000-8000-{n:012d}", "call_agent_id": 7,
            "call_status": "ANSWERED", "initiation_time": "2026-03-01T12:00:00Z",
            "answer_time": "2026-03-01T12:00:05Z", "end_time": "2026-03-01T12:01:05Z",
            "hangup_cause_name": "NORMAL_CLEARING", "call_direction": "inbound",
            "call_duration": 60, "billed_duration": 60, **fields}


def env_for(org) -> Environment:
    env = Environment(organization=org, name="O", provider=Provider.ORIGINS, base_url=BASE,
                      requests_per_minute=100000, provider_settings={"agent_ids": [7]})
    env.set_token("orig_" + "7" * 40)
    env.save()
    return env


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
    # An unknown status word is kept as sent, never blanked (issue 15).
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
def test_a_body_broken_every_time_fails_after_retries_and_keeps_what_was_read(org_a,
                                                                             monkeypatch):
    monkeypatch.setattr(origins_stream, "CHUNK", 2)
    monkeypatch.setattr(OriginsClient, "backoff_pause", lambda self, attempt: None)
    whole = json.dumps([record(n) for n in range(1, 6)])
    responses.get(URL, body=whole[: whole.index(record(5)["call_id"]) - 5])
    run = calls_run(env_for(org_a))
    assert run.status == RunStatus.FAILED
    assert "the body broke off after 4 records (IncompleteJSONError), 6 times" in run.error
    assert Call.objects.count() == 4, "the records read before the break are kept"
    assert run.requests == 6


def test_the_stream_holds_one_chunk_of_records_at_a_time(org_a, monkeypatch):
    """Records are pulled from the parser only as chunks are written: never more than CHUNK
    records read ahead of the last write, whatever the length of the history."""
    monkeypatch.setattr(origins_stream, "CHUNK", 5)
    pulled, ahead = [0], []
    real_call_stats, real_upsert = OriginsClient.call_stats, origins_stream.upsert

    def counting_call_stats(self, agent_id):
        records = real_call_stats(self, agent_id)
        assert not isinstance(records, list), "records must arrive as they are parsed"

        def counted():
            for item in records:
                pulled[0] += 1
                yield item
        return counted()

    def watching_upsert(model, env, rows, **kw):
        ahead.append(pulled[0])
        return real_upsert(model, env, rows, **kw)

    monkeypatch.setattr(OriginsClient, "call_stats", counting_call_stats)
    monkeypatch.setattr(origins_stream, "upsert", watching_upsert)
    with served(small_config()) as (sim, server):
        env = origins_env(org_a, sim, server, agent_ids=AGENTS[:1])
        outcome = sync_environment(env, now=sim.now)
    assert not outcome.failed
    assert len(ahead) > 10
    # Before the n-th write, at most n chunks were pulled from the parser.
    assert all(n <= 5 * (i + 1) for i, n in enumerate(ahead)), ahead[:5]
