"""Record quarantine: a hostile upstream record is kept whole with its reason, never written,
never stops the page or the stream; the run succeeds with a warning; a corrected record
clears it. Records are made hostile by the simulator (`sim.tamper`) and read over real HTTP.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.urls import reverse

from sync.engine import sync_environment
from sync.models import Agent, Call, CallbackDay, RejectedRecord, SyncRun
from sync.models.core import RunStatus
from tests.support.origins import AGENTS, origins_env
from tests.support.sync_support import ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db

ORIGINS = "origins-demo"


def config():
    return small_config(days=2, calls_per_day=30, bad_record_rate=0.0)


def sync(env, sim) -> dict[str, SyncRun]:
    """One sync of every stream; the runs as saved, by stream."""
    outcome = sync_environment(env, now=sim.now)
    return {r.stream: SyncRun.objects.get(pk=r.pk) for r in outcome.runs}


def a_call(sim, day: date | None = None) -> dict:
    day = day or sim.today
    return next(iter(sim.truth.calls(ENV, day, day)))


# (patch of one /calls item, words the reason must contain): each way a record can break
# the documented shape.
CALL_CASES = {
    "direction_is_an_object": ({"direction": {"value": "outbound"}},
                               "direction must be a string"),
    "duration_2_pow_31": ({"duration": 2**31}, "duration is 2147483648, outside 0..2147483647"),
    "nul_in_sid": ({"sid": "CA\x00deadbeef"}, "NUL"),
    "nul_in_phone": ({"to_formatted": "(212) 555\x00-0143"}, "NUL"),
    "nul_in_the_calls_agent_name": ({"agent": {"id": "x", "name": "Ana\x00", "label": ""}},
                                    "NUL"),
    "control_character": ({"from": "+1555\x07"}, "from contains a NUL or control character"),
    "created_at_year_9999": ({"created_at": "9999-12-31T23:59:59-12:00"},
                             "created_at '9999-12-31T23:59:59-12:00' is outside 2000..2100"),
    "created_at_year_1": ({"created_at": "0001-01-01T00:00:00Z"}, "outside 2000..2100"),
    "created_at_not_a_time": ({"created_at": "yesterday"}, "created_at is not a timestamp"),
    "is_testing_not_a_boolean": ({"is_testing": "yes"}, "is_testing must be a boolean"),
    "duration_a_string": ({"duration": "120"}, "duration must be an integer"),
    "negative_duration": ({"duration": -1}, "outside 0..2147483647"),
    "id_longer_than_255": ({"id": "c" * 256}, "id is 256 characters long, more than 255"),
}


@pytest.mark.parametrize("case", list(CALL_CASES))
def test_a_hostile_call_is_quarantined_and_the_rest_mirrored(org_a, case):
    patch, reason = CALL_CASES[case]
    with served(config()) as (sim, server):
        env = point_env(org_a, sim, server)
        target = a_call(sim)
        sim.tamper(ENV).calls[target["id"]] = patch
        runs = sync(env, sim)
        calls = runs["calls"]
        assert calls.status == RunStatus.SUCCEEDED and calls.error == ""
        assert calls.rejected == 1
        assert any("1 record rejected" in w for w in calls.warnings)
        kept = RejectedRecord.objects.get(environment=env)
        assert (kept.stream, kept.day, kept.run_id) == ("calls", sim.today, calls.pk)
        assert reason in kept.reason
        assert json.loads(kept.payload) == {**target, **patch}, "kept whole, as sent"
        stored = set(Call.objects.filter(environment=env).values_list("external_id", flat=True))
        truth = {c["id"] for c in sim.truth.calls(ENV, sim.start_date, sim.today)}
        assert stored == truth - {target["id"]}, "every other call of the page and stream"
        assert all(r.status == RunStatus.SUCCEEDED for r in runs.values())


def test_rejected_timestamps_never_reach_pages(org_a, alice, client):
    with served(config()) as (sim, server):
        env = point_env(org_a, sim, server)
        target = a_call(sim)
        sim.tamper(ENV).calls[target["id"]] = {"created_at": "9999-12-31T23:59:59-12:00"}
        other = a_call(sim, sim.start_date)
        sim.tamper(ENV).calls[other["id"]] = {"created_at": "0001-01-01T00:00:00Z"}
        assert sync(env, sim)["calls"].rejected == 2
        client.force_login(alice)
        for url in (reverse("calls", args=[org_a.slug]), f"/api/v1/environments/{env.pk}/calls",
                    reverse("dashboard", args=[org_a.slug])):
            assert client.get(url).status_code == 200, url
        assert not Call.objects.filter(started_at__year__lt=2000).exists()
        assert not Call.objects.filter(started_at__year__gte=2100).exists()


def test_a_corrected_record_clears_its_quarantine(org_a):
    with served(config()) as (sim, server):
        env = point_env(org_a, sim, server)
        target = a_call(sim)
        sim.tamper(ENV).calls[target["id"]] = {"duration": 10**30}
        first = sync(env, sim)["calls"]
        assert first.rejected == 1 and RejectedRecord.objects.count() == 1
        again = sync(env, sim)["calls"]  # still wrong upstream: still one row, seen again
        assert again.rejected == 1
        kept = RejectedRecord.objects.get()
        assert kept.run_id == again.pk and kept.first_seen_at < kept.last_seen_at
        sim.untamper(ENV)
        fixed = sync(env, sim)["calls"]
        assert fixed.rejected == 0 and fixed.warnings == []
        assert not RejectedRecord.objects.exists()
        assert mirror_diff(env, sim) == []


def test_an_agent_with_a_nul_in_its_name_is_quarantined(org_a):
    with served(config()) as (sim, server):
        env = point_env(org_a, sim, server)
        agents = sim.truth.agents(ENV)
        bad = agents[0]["id"]
        sim.tamper(ENV).agents[bad] = {"name": "Ana\x00Maria"}
        runs = sync(env, sim)
        assert runs["agents"].status == RunStatus.SUCCEEDED and runs["agents"].rejected == 1
        kept = RejectedRecord.objects.get(environment=env, stream="agents")
        assert kept.upstream_id == bad and "NUL" in kept.reason
        assert json.loads(kept.payload)["name"] == "Ana\x00Maria"
        named = dict(Agent.objects.filter(environment=env).values_list("external_id", "name"))
        assert all(named[a["id"]] == a["name"] for a in agents[1:]), "the other agents"
        assert "\x00" not in "".join(named.values())
        assert runs["calls"].status == RunStatus.SUCCEEDED and runs["calls"].rejected == 0
        sim.untamper(ENV)
        assert sync(env, sim)["agents"].rejected == 0
        assert not RejectedRecord.objects.exists()
        assert Agent.objects.get(environment=env, external_id=bad).name == agents[0]["name"]


@pytest.mark.parametrize(("patch", "reason"), [
    ({"callbacks_by_source_agent": [{"source_agent_id": "a1", "name": "Sales",
                                     "count": "abc"}]},
     "callbacks_by_source_agent[0].count must be an integer"),
    ({"total_callbacks_received": 10**30}, "total_callbacks_received is an integer of 31 digits"),
    ({"callbacks_answered": None}, "callbacks_answered is missing"),
], ids=["count_abc", "total_10_pow_30", "missing_total"])
def test_a_hostile_callback_day_is_quarantined_and_other_days_stored(org_a, patch, reason):
    with served(config()) as (sim, server):
        env = point_env(org_a, sim, server)
        bad_day = sim.start_date
        sim.tamper(ENV).callback_days[bad_day.isoformat()] = patch
        run = sync(env, sim)["callback_days"]
        assert run.status == RunStatus.SUCCEEDED and run.rejected == 1
        kept = RejectedRecord.objects.get(environment=env, stream="callback_days")
        assert kept.day == bad_day and reason in kept.reason
        days = set(CallbackDay.objects.filter(environment=env).values_list("day", flat=True))
        assert days == {sim.today}
        sim.untamper(ENV)
        assert sync(env, sim)["callback_days"].rejected == 0
        assert not RejectedRecord.objects.exists()
        assert mirror_diff(env, sim) == []


@pytest.mark.parametrize(("patch", "reason"), [
    ({"call_transcription": [{"role": "agent", "text": "Olá\x00"}]}, "NUL"),
    ({"call_duration": 1e300}, "call_duration is 1e+300"),
    ({"initiation_time": "9999-12-31T23:59:59-12:00"}, "outside 2000..2100"),
    ({"call_direction": ["inbound"]}, "call_direction must be a string"),
    ({"call_id": "u" * 300}, "call_id is 300 characters long"),
], ids=["nul_in_transcript", "huge_duration", "year_9999", "direction_array", "long_id"])
def test_a_hostile_origins_record_is_quarantined(org_a, patch, reason):
    with served(config()) as (sim, server):
        env = origins_env(org_a, sim, server)
        records = sim.truth.origins_calls(ORIGINS, AGENTS[0])
        target = next(r for r in records if r["call_id"])
        sim.tamper(ORIGINS).calls[target["call_id"]] = patch
        run = sync(env, sim)["calls"]
        assert run.status == RunStatus.SUCCEEDED and run.rejected == 1
        kept = RejectedRecord.objects.get(environment=env)
        assert reason in kept.reason
        total = sum(1 for a in AGENTS for r in sim.truth.origins_calls(ORIGINS, a)
                    if r["call_id"])
        assert Call.objects.filter(environment=env).count() == total - 1
        sim.untamper(ORIGINS)
        assert sync(env, sim)["calls"].rejected == 0
        assert not RejectedRecord.objects.exists()
        assert Call.objects.filter(environment=env).count() == total


def test_sync_page_and_admin_show_rejected_records_to_their_tenant_only(
        org_a, alice, carol, client):
    with served(config()) as (sim, server):
        env = point_env(org_a, sim, server)
        target = a_call(sim)
        sim.tamper(ENV).calls[target["id"]] = {"duration": 2**31, "sid": "CA\x00x"}
        sync(env, sim)
    client.force_login(alice)
    page = client.get(reverse("sync-status", args=[org_a.slug])).content.decode()
    assert "1 rejected record" in page and "with warnings" in page
    assert "1 record rejected (kept in quarantine, not written)" in page
    assert target["id"] in page and "NUL" in page
    kept = RejectedRecord.objects.get()
    for user in (alice, carol):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    listing = client.get("/admin/sync/rejectedrecord/")
    assert listing.status_code == 200 and target["id"] in listing.content.decode()
    detail = client.get(f"/admin/sync/rejectedrecord/{kept.pk}/change/")
    assert detail.status_code == 200 and "CA\\u0000x" in detail.content.decode()
    client.force_login(carol)
    assert target["id"] not in client.get("/admin/sync/rejectedrecord/").content.decode()
    assert client.get(f"/admin/sync/rejectedrecord/{kept.pk}/change/").status_code == 404
    other = client.get(reverse("sync-status", args=["org-b"])).content.decode()
    assert target["id"] not in other


@pytest.mark.django_db(transaction=True)
def test_sync_command_prints_the_count_and_exits_zero(org_a, subprocess_env):
    # The command syncs up to the wall clock: the simulated data ends today.
    with served(small_config(days=2, calls_per_day=30, end_date=None)) as (sim, server):
        env = point_env(org_a, sim, server)
        # Yesterday's: just after midnight UTC today has no call yet.
        target = a_call(sim, sim.today - timedelta(days=1))
        sim.tamper(ENV).calls[target["id"]] = {"direction": {"x": 1}}
        done = subprocess.run(
            [sys.executable, "manage.py", "sync", "--env", str(env.pk), "--no-progress"],
            capture_output=True, text=True, timeout=120, env=subprocess_env)
    assert done.returncode == 0, done.stderr
    assert "1 record(s) rejected" in done.stdout
    assert "warning: Sales / calls: 1 record rejected" in done.stdout
    assert "Traceback" not in done.stderr
    assert RejectedRecord.objects.filter(environment=env).count() == 1


HOSTILE_VALUES = [
    None, "", {"a": 1}, [1], True, 1.5, -1, 2**31, 10**30, float("nan"), float("inf"),
    "x" * 300, "a\x00b", "\x1b[31mred", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z",
    "2024-01-01T00:00:00.123456789+14:00", "true", "=HYPERLINK(\"http://x\")",
]
CALL_FIELDS = ["id", "sid", "to", "to_formatted", "from", "from_formatted", "direction",
               "status", "duration", "is_testing", "created_at", "updated_at", "agent"]


def test_every_hostile_value_in_every_field_is_stored_or_quarantined(org_a, alice, client):
    """One call per (field, hostile value), all in one sync: nothing crashes, nothing is
    lost (each record is either mirrored or quarantined), and the pages still answer."""
    cases = [(f, v) for f in CALL_FIELDS for v in HOSTILE_VALUES]
    with served(small_config(days=2, calls_per_day=160, bad_record_rate=0.0)) as (sim, server):
        env = point_env(org_a, sim, server)
        calls = list(sim.truth.calls(ENV, sim.start_date, sim.today))
        assert len(calls) > len(cases)
        tamper = sim.tamper(ENV)
        for call, (name, value) in zip(calls, cases, strict=False):
            tamper.calls[call["id"]] = {name: value}
        runs = sync(env, sim)
        assert all(r.status == RunStatus.SUCCEEDED for r in runs.values()), \
            [(r.stream, r.error) for r in runs.values()]
        run = runs["calls"]
        stored = Call.objects.filter(environment=env).count()
        assert run.rejected == RejectedRecord.objects.filter(environment=env).count() > 0
        assert stored + run.rejected == len(calls)
        assert run.created == stored
    assert not Call.objects.filter(started_at__year__gte=2100).exists()
    client.force_login(alice)
    for url in (reverse("calls", args=[org_a.slug]), reverse("dashboard", args=[org_a.slug]),
                reverse("sync-status", args=[org_a.slug]),
                f"/api/v1/environments/{env.pk}/calls?per_page=100"):
        assert client.get(url).status_code == 200, url


AGENT_FIELDS = ["id", "name", "label", "description", "language", "direction",
                "current_status", "is_sandbox", "created_at", "updated_at"]
STATS_FIELDS = ["total_callbacks_received", "callbacks_answered", "callbacks_unmatched",
                "callbacks_by_source_agent"]


def test_agent_and_callback_shapes_reject_or_accept_every_hostile_value():
    """The shape checks behind the agents and callback streams: each hostile value either
    raises `Rejected` (and nothing else) or yields values that fit their columns."""
    from sync.providers.talkover.shape import agent_values, callback_values
    from sync.providers.validation import Rejected

    agent = {"id": "ag-1", "name": "Ana", "label": "a", "description": "d\nok",
             "language": "pt-BR", "direction": "inbound", "current_status": "published",
             "is_sandbox": False, "created_at": "2024-01-01T00:00:00Z", "updated_at": None}
    stats = {"total_callbacks_received": 3, "callbacks_answered": 2, "callbacks_unmatched": 1,
             "callbacks_by_source_agent": [{"source_agent_id": "s", "name": "S", "count": 2}]}
    accepted = 0
    for name in AGENT_FIELDS:
        for value in HOSTILE_VALUES:
            try:
                got = agent_values({**agent, name: value})
            except Rejected:
                continue
            accepted += 1
            assert len(got.id) <= 255 and len(got.name) <= 200 and len(got.language) <= 32
            assert "\x00" not in got.name + got.label + got.description + got.direction
            for moment in (got.created_at, got.updated_at):
                assert moment is None or 2000 <= moment.year < 2100
    for name in STATS_FIELDS:
        for value in [*HOSTILE_VALUES, [{"source_agent_id": "s", "count": 10**30}],
                      [{"source_agent_id": {"x": 1}, "count": 1}], ["s"]]:
            try:
                got = callback_values({**stats, name: value})
            except Rejected:
                continue
            accepted += 1
            assert all(0 <= n < 2**31 for n in (got.total_received, got.answered,
                                                 got.unmatched))
            assert all(0 <= s.count < 2**31 and len(s.source_agent_id) <= 255
                       for s in got.sources)
    assert accepted > 0, "the corpus also holds values the documented shape allows"
