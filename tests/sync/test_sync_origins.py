"""The Origins AI provider against the simulator's Origins endpoint over real HTTP."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from django.core import mail

from portal.durations import format_duration
from portal.models import Environment, EnvironmentStatus, Provider
from sync.engine import sync_environment
from sync.models import Agent, Call, CallRollup, SyncRun
from sync.models.core import RunStatus
from sync.providers.origins import streams as origins_stream
from sync.providers.origins.records import ORIGINS_STATUS_TABLE
from tests.support.origins import AGENTS, KEY, origins_env
from tests.support.sync_support import served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def expected(record: dict, agent_id: int) -> tuple:
    """The normalised columns a record must land in, computed independently of the adapter."""
    failed = {"USER_BUSY": "busy", "NO_ANSWER": "no-answer"}.get(record["hangup_cause_name"],
                                                                 "failed")
    status = {"ANSWERED": "completed" if record["end_time"] else "answered",
              "FAILED": failed, "INITIATED": "initiated",
              "QUEUED": "queued"}[record["call_status"]]
    start = record["initiation_time"] or record["call_state_changes"][0]["at"]
    talk = record["call_duration"]
    return (record, status, record["call_status"], str(agent_id), record["call_direction"],
            record["from_number"], record["to_number"], when(start),
            when(record["answer_time"]), when(record["end_time"]),
            math.floor(talk + 0.5) if talk is not None else 0, record["billed_duration"],
            record["hangup_cause_name"] or "", record["hangup_source"] or "")


def origins_diff(env: Environment, sim, agent_ids=AGENTS) -> list[str]:
    """Every difference between the mirror and `sim.truth.origins_calls` (empty = exact)."""
    problems: list[str] = []
    want = {}
    for agent_id in agent_ids:
        for record in sim.truth.origins_calls(KEY, agent_id):
            if record["call_id"]:
                want[record["call_id"]] = expected(record, agent_id)
    mirror = {c.external_id: c for c in Call.objects.filter(environment=env)}
    if set(want) != set(mirror):
        problems.append(f"ids differ: {len(want)} upstream, {len(mirror)} mirrored")
    for cid in set(want) & set(mirror):
        c = mirror[cid]
        got = (c.raw, c.status, c.provider_status, c.agent_external_id, c.direction,
               c.from_number, c.to_number, c.started_at, c.answered_at, c.ended_at,
               c.duration, c.billed_duration, c.hangup_cause, c.hangup_source)
        if got != want[cid]:
            problems.append(f"call {cid}: {got[1:]} != {want[cid][1:]}")
    rolled = sum(CallRollup.objects.filter(environment=env).values_list("count", flat=True))
    if rolled != len(mirror):
        problems.append(f"rollups count {rolled} calls, mirror has {len(mirror)}")
    return problems[:10]


def test_status_mapping_is_a_documented_constant():
    assert ORIGINS_STATUS_TABLE == {
        ("ANSWERED", "*"): "completed", ("FAILED", "USER_BUSY"): "busy",
        ("FAILED", "NO_ANSWER"): "no-answer", ("FAILED", "*"): "failed",
        ("INITIATED", "*"): "initiated", ("QUEUED", "*"): "queued"}


def test_mirror_equals_ground_truth_and_second_sync_creates_nothing(org_a):
    with served() as (sim, server):
        env = origins_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert [r.stream for r in outcome.runs] == ["agents", "calls"]
        assert origins_diff(env, sim) == []
        calls = outcome.runs[1]
        total = sum(len(sim.truth.origins_calls(KEY, a)) for a in AGENTS)
        assert calls.created == Call.objects.filter(environment=env).count() > 50
        assert calls.requests == len(AGENTS) and calls.updated == 0
        assert calls.created + calls.rejected == total
        assert set(Call.objects.values_list("status", flat=True)) >= {"completed", "failed"}
        agents = Agent.objects.filter(environment=env)
        assert sorted(a.external_id for a in agents) == ["4012", "4013"]
        assert not Call.objects.filter(environment=env, agent__isnull=True).exists()
        env.refresh_from_db()
        version = env.data_version
        assert version > 0 and env.last_synced_at

        stamps = dict(Call.objects.filter(environment=env).values_list("pk", "last_changed_at"))
        again = sync_environment(env, now=sim.now)
        assert sum(r.created + r.updated for r in again.runs) == 0
        assert dict(Call.objects.filter(environment=env).values_list(
            "pk", "last_changed_at")) == stamps, "an unchanged record must not be rewritten"
        assert again.runs[1].unchanged == calls.created
        env.refresh_from_db()
        assert env.data_version == version, "an unchanged sync must keep report caches"


def test_changed_records_update_when_the_clock_moves(org_a):
    """A call mirrored while answered is updated to completed once the clock passes its end."""
    with served() as (sim, server):
        line = next(r for r in sim.truth.origins_calls(KEY, AGENTS[0])[::-1]
                    if r["call_id"] and r["answer_time"] and r["end_time"]
                    and r["end_time"] > r["answer_time"])
        sim.set_now(when(line["answer_time"]) + timedelta(seconds=1))
        env = origins_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        call = Call.objects.get(external_id=line["call_id"])
        assert call.status == "answered" and call.ended_at is None
        assert origins_diff(env, sim) == []
        sim.set_now(when(line["end_time"]) + timedelta(hours=1))
        outcome = sync_environment(env, now=sim.now)
        calls = outcome.runs[1]
        assert calls.updated >= 1 and calls.unchanged > 0
        call.refresh_from_db()
        assert call.status == "completed" and call.ended_at and call.billed_duration
        assert origins_diff(env, sim) == []


# Fault seeds whose draws fire within this data set's two requests (checked below).
@pytest.mark.parametrize("fault", ["500=0.5,seed=5", "429=0.5:0,seed=5", "502=0.5,seed=5",
                                   "truncate=0.5,seed=6"])
def test_faults_are_retried_and_the_mirror_stays_exact(org_a, fault):
    with served(spec=fault) as (sim, server):
        env = origins_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert outcome.runs[1].requests > len(AGENTS), "the fault must actually have fired"
        assert origins_diff(env, sim) == []


def test_unknown_agent_is_marked_missing_and_others_sync(org_a):
    with served() as (sim, server):
        env = origins_env(org_a, sim, server, agent_ids=(4012, 9999, 4013))
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert Agent.objects.get(environment=env, external_id="9999").missing
        assert not Agent.objects.get(environment=env, external_id="4012").missing
        assert outcome.runs[1].details["missing_agents"] == [9999]
        assert origins_diff(env, sim) == []
        # The agent exists again (here: it was a typo, fixed to a real id; simulate a later
        # success for the same row by pointing the id list at a served agent).
        Agent.objects.filter(environment=env, external_id="4013").update(missing=True)
        sync_environment(env, now=sim.now)
        assert not Agent.objects.get(environment=env, external_id="4013").missing


def test_revoked_token_marks_auth_failed_and_keeps_the_mirror(org_a, alice):
    with served() as (sim, server):
        env = origins_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        before = Call.objects.filter(environment=env).count()
        sim.revoke(KEY)
        outcome = sync_environment(env, now=sim.now)
        env.refresh_from_db()
        assert outcome.failed and outcome.auth_failed
        assert [r.stream for r in outcome.runs] == ["agents", "calls"]
        assert outcome.runs[1].status == RunStatus.FAILED and "401" in outcome.runs[1].error
        assert env.status == EnvironmentStatus.AUTH_FAILED
        assert Call.objects.filter(environment=env).count() == before
        assert len(mail.outbox) == 1 and sim.tokens[KEY] not in mail.outbox[0].body


def test_records_without_call_id_are_rejected_and_counted(org_a):
    with served(small_config(bad_record_rate=0.1)) as (sim, server):
        env = origins_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        calls = outcome.runs[1]
        bad = sum(1 for a in AGENTS for r in sim.truth.origins_calls(KEY, a) if not r["call_id"])
        assert bad > 0 and calls.status == RunStatus.SUCCEEDED
        assert calls.rejected == bad
        assert SyncRun.objects.get(pk=calls.pk).details["rejected_reasons"] == {
            "missing call_id": bad}
        assert origins_diff(env, sim) == []


def test_large_arrays_are_written_in_chunks(org_a, monkeypatch):
    monkeypatch.setattr(origins_stream, "CHUNK", 7)
    with served() as (sim, server):
        env = origins_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        calls = outcome.runs[1]
        assert calls.pages >= calls.created // 7
        assert origins_diff(env, sim) == []


def test_call_detail_page_and_api_show_the_transcript(org_a, alice, bob, carol, client,
                                                      api_client_for):
    with served(small_config(end_date=date(2026, 3, 10))) as (sim, server):
        env = origins_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
    call = next(c for c in Call.objects.filter(environment=env, status="completed")
                if c.raw["call_transcription"] and c.raw["call_timeline"])
    first_turn = call.raw["call_transcription"][0]["text"]
    client.force_login(alice)
    html = client.get(f"/o/{org_a.slug}/calls/{call.pk}/").content.decode()
    billed = int(call.billed_duration)
    for shown in (first_turn, "Transcript", "Timeline", "Quality", "mos", "Insights",
                  call.raw["call_insights"]["sentiment"], call.hangup_cause,
                  call.hangup_source, "hangup", format_duration(billed)):
        assert shown in html, shown
    body = api_client_for(bob).get(f"/api/v1/calls/{call.pk}").json()
    assert body["raw"]["call_transcription"][0]["text"] == first_turn
    assert body["billed_duration"] == call.billed_duration and body["hangup_cause"]
    assert body["status"] == "completed" and body["provider_status"] == "ANSWERED"
    assert api_client_for(carol).get(f"/api/v1/calls/{call.pk}").status_code == 404


# --- agent ids: admin and settings page ------------------------------------------------------

def _admin_post(client, env: Environment, **changes) -> object:
    from django.urls import reverse

    data = {"organization": env.organization_id, "name": env.name, "provider": "origins",
            "base_url": "https://origins.example", "provider_settings": "{}",
            "status": "active", "sync_enabled": "on", "sync_interval_minutes": 15,
            "lookback_days": 2, "backfill_days": 90, "callback_match_days": 7,
            "requests_per_minute": 90, **changes}
    return client.post(reverse("admin:portal_environment_change", args=[env.pk]), data)


def test_admin_edits_agent_ids_with_a_clear_error(cast, env_a, env_b, client, upstream):
    server, tokens = upstream
    # A valid change is tested against the upstream before it is saved.
    reachable = {"base_url": server.origins_url, "token": tokens["origins-demo"]}
    for user in cast.values():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    client.force_login(cast["alice"])
    bad = _admin_post(client, env_a, agent_ids="4012, abc")
    assert bad.status_code == 200
    assert "is not an agent id; give whole numbers separated by commas" in bad.content.decode()
    empty = _admin_post(client, env_a, agent_ids="")
    assert "need at least one agent id" in empty.content.decode()
    env_a.refresh_from_db()
    assert env_a.provider == "talkover", "nothing saved from a bad form"
    assert _admin_post(client, env_a, agent_ids="4012; 4013, 4012", **reachable).status_code == 302
    env_a.refresh_from_db()
    assert env_a.provider_settings["agent_ids"] == [4012, 4013] == env_a.agent_ids
    page = client.get(f"/admin/portal/environment/{env_a.pk}/change/").content.decode()
    assert 'value="4012, 4013"' in page
    client.force_login(cast["bob"])
    assert _admin_post(client, env_a, agent_ids="1").status_code == 403
    client.force_login(cast["carol"])
    assert _admin_post(client, env_a, agent_ids="1").status_code == 404  # another tenant's
    env_a.refresh_from_db()
    assert env_a.agent_ids == [4012, 4013]


def test_settings_page_edits_agent_ids(cast, org_a, client):
    env = Environment(organization=org_a, name="Origins", provider=Provider.ORIGINS,
                      base_url="https://origins.example",
                      provider_settings={"agent_ids": [4012]})
    env.set_token("orig_" + "1" * 40)
    env.save()
    url = f"/o/org-a/settings/environments/{env.pk}/agents/"
    for who, status in (("alice", 200), ("bob", 403), ("carol", 404)):
        client.force_login(cast[who])
        assert client.get(url).status_code == status, who
        if who != "alice":
            assert client.post(url, {"agent_ids": "1"}).status_code == status, who
    client.force_login(cast["alice"])
    assert 'value="4012"' in client.get(url).content.decode()
    listing = client.get("/o/org-a/settings/environments/").content.decode()
    assert url in listing
    bad = client.post(url, {"agent_ids": "4012, 40x"})
    assert bad.status_code == 400 and "is not an agent id" in bad.content.decode()
    assert client.post(url, {"agent_ids": " "}).status_code == 400
    assert client.post(url, {"agent_ids": "4012, 4051"}).status_code == 302
    env.refresh_from_db()
    assert env.agent_ids == [4012, 4051]
    talkover = Environment.objects.create(organization=org_a, name="Talkover")
    assert client.get(f"/o/org-a/settings/environments/{talkover.pk}/agents/").status_code \
        == 404
