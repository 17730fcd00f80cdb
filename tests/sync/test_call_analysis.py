"""Each call's analysis, mirrored and normalised: the judgement rule (`sync.analysis`), Vapi's
`analysis` (late ones too, taken by the incremental read) and Origins AI's `call_insights`
against the simulator over real HTTP, and an agent's threshold judging its calls again."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sync.analysis import DEFAULT_THRESHOLD, judge, set_threshold
from sync.engine import sync_environment
from sync.models import Agent, Call
from sync.simulator import running_simulator
from tests.support.origins import origins_env
from tests.support.sync_support import served, small_config
from tests.support.vapi import KEY, upstream_calls, vapi_config, vapi_env


@pytest.mark.parametrize(("value", "judgement", "raw", "score"), [
    (True, "succeeded", "true", None), (False, "failed", "false", None),
    ("true", "succeeded", "true", None), ("FALSE", "failed", "FALSE", None),
    (8, "succeeded", "8", 80.0), (6, "failed", "6", 60.0), ("7", "succeeded", "7", 70.0),
    (85, "succeeded", "85", 85.0), (69.5, "failed", "69.5", 69.5),
    ("B", "succeeded", "B", 80.0), ("C", "failed", "C", 60.0),
    ("Good", "succeeded", "Good", 75.0), ("Poor", "failed", "Poor", 25.0),
    ("Strongly Agree", "succeeded", "Strongly Agree", 100.0),
    (None, "", "", None), ("", "", "", None), ("maybe", "", "maybe", None),
    (150, "", "150", None), ({"a": 1}, "", '{"a": 1}', None), ([True], "", "[true]", None),
])
def test_a_judgement_is_normalised_and_its_value_kept(value, judgement, raw, score):
    assert judge(value) == (judgement, raw, score)


def test_a_score_is_judged_by_the_threshold_given():
    assert DEFAULT_THRESHOLD == 70
    assert judge(6, threshold=60)[0] == "succeeded"
    assert judge("A", threshold=101)[0] == "failed"
    assert judge(True, threshold=101)[0] == "succeeded"  # a boolean is never a score


def _expected(item: dict) -> tuple:
    analysis = item.get("analysis") or {}
    reason = item.get("endedReason") or ""
    return (analysis.get("summary") or "", judge(analysis.get("successEvaluation"))[:2],
            analysis.get("structuredData") or None, reason == "assistant-forwarded-call",
            reason == "voicemail")


def _mirrored(call: Call) -> tuple:
    return (call.summary, (call.judgement, call.judgement_raw), call.analysis_fields,
            call.transferred, call.voicemail)


@pytest.mark.django_db(transaction=True)
def test_vapi_analysis_is_mirrored_and_a_late_one_is_taken_when_it_comes(org_a, settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000
    with running_simulator(vapi_config(days=2)) as (sim, server):
        store = sim.store(KEY)
        now_ms = sim.now_ts() * 1000
        # A call whose end-of-call report is in, but whose analysis comes hours later.
        late = next(c for c in store.day(sim.today.toordinal())
                    if c.started is not None and c.final < now_ms
                    and c.final + c.analysed > now_ms + 3_600_000)
        env = vapi_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        call = Call.objects.get(environment=env, external_id=late.id)
        assert (call.status, call.summary, call.judgement) == ("completed", "", "")
        sim.advance(timedelta(milliseconds=late.final + late.analysed - now_ms + 1000))
        assert not sync_environment(env, now=sim.now).failed  # incremental: by updatedAt
        call = Call.objects.get(environment=env, external_id=late.id)
        assert call.summary.startswith("The caller asked about")
        assert call.judgement in ("succeeded", "failed") and call.judgement_raw
        want = upstream_calls(sim, server, sim.start_date, sim.today)
        mirror = {c.external_id: c for c in Call.objects.filter(environment=env)}
        assert {cid: _expected(item) for cid, item in want.items()} == {
            cid: _mirrored(mirror[cid]) for cid in want}
        kinds = {type((item.get("analysis") or {}).get("successEvaluation")).__name__
                 for item in want.values()}
        assert {"str", "int"} <= kinds  # pass/fail and descriptive words, 1-10 scores
        assert any(c.transferred for c in mirror.values())
        assert any(c.voicemail for c in mirror.values())


@pytest.mark.django_db(transaction=True)
def test_origins_insights_are_mirrored_and_transfers_read_from_the_hangup_cause(org_a):
    with served(small_config(days=3)) as (sim, server):
        env = origins_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        calls = list(Call.objects.filter(environment=env))
        for call in calls:
            insights = call.record.get("call_insights") or {}
            assert call.summary == (insights.get("summary") or "")
            assert call.judgement == judge(insights.get("call_successful"))[0]
            rest = {k: v for k, v in insights.items() if k not in ("summary", "call_successful")}
            assert call.analysis_fields == (rest or None)
            assert call.transferred == (call.hangup_cause == "BLIND_TRANSFER")
            assert not call.voicemail
        assert {c.judgement for c in calls} == {"succeeded", "failed", ""}
        assert any(c.transferred for c in calls)
        assert "sentiment" in next(c.analysis_fields for c in calls if c.analysis_fields)


@pytest.mark.django_db(transaction=True)
def test_an_agents_threshold_judges_its_scored_calls_again(org_a, settings):
    settings.VAPI_REQUESTS_PER_MINUTE = 100000
    with running_simulator(vapi_config(days=1)) as (sim, server):
        env = vapi_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
    scored = Call.objects.filter(environment=env, judgement_score__isnull=False)
    agent = Agent.objects.get(environment=env, external_id=scored[0].agent_external_id)
    mine = scored.filter(agent_external_id=agent.external_id)
    assert mine.filter(judgement="failed").exists()
    version = type(env).objects.get(pk=env.pk).data_version
    failed = mine.filter(judgement="failed").count()
    assert failed > 0 and set_threshold(agent, 0) == failed
    assert not mine.filter(judgement="failed").exists()
    assert type(env).objects.get(pk=env.pk).data_version == version + 1
    set_threshold(agent, None)
    assert all(c.judgement == ("succeeded" if c.judgement_score >= 70 else "failed")
               for c in mine)
    # Booleans and other agents' calls are left as they were.
    assert Call.objects.filter(environment=env, judgement_score__isnull=True,
                               judgement="failed").exists()
