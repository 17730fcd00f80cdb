"""Unknown values kept and said: a status or direction outside the documented set is stored
as sent (never ""), listed as sent by the compatible API, counted as "other" in reports and
noted once per run; "true"/"false" strings are booleans; timestamps keep their fractions; a
page with more items than asked for is a clear sync error. Upstream is the simulator over
real HTTP, made odd record by record (`sim.tamper`)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from sync.engine import sync_environment
from sync.models import Call, RejectedRecord, SyncRun
from sync.models.core import RunStatus
from tests.support.sync_support import ENV, point_env, served, small_config

pytestmark = pytest.mark.django_db

KNOWN_OUTCOMES = ("answered", "completed", "failed", "busy", "no-answer")


def sync(env, sim) -> dict[str, SyncRun]:
    outcome = sync_environment(env, now=sim.now)
    return {r.stream: SyncRun.objects.get(pk=r.pk) for r in outcome.runs}


def todays_calls(sim) -> list[dict]:
    return [c for c in sim.truth.calls(ENV, sim.today, sim.today) if not c["is_testing"]]


def test_unknown_status_and_direction_are_kept_noted_once_and_counted_as_other(
        org_a, alice, client, api_client_for):
    with served(small_config(days=2, calls_per_day=30)) as (sim, server):
        env = point_env(org_a, sim, server)
        calls = todays_calls(sim)
        canceled, internal = [c["id"] for c in calls[:3]], calls[3]["id"]
        for call_id in canceled:
            sim.tamper(ENV).calls[call_id] = {"status": "canceled"}
        sim.tamper(ENV).calls[internal] = {"direction": "internal"}
        run = sync(env, sim)["calls"]
        assert run.status == RunStatus.SUCCEEDED and run.rejected == 0
        assert set(Call.objects.filter(external_id__in=canceled)
                   .values_list("status", "provider_status")) == {("canceled", "canceled")}
        assert Call.objects.get(external_id=internal).direction == "internal"
        noted = {"status": {"canceled": 3}, "direction": {"internal": 1}}
        assert run.details["unknown_counts"] == noted
        assert "3 calls with unknown status 'canceled'" in run.warnings
        assert "1 call with unknown direction 'internal'" in run.warnings
        again = sync(env, sim)["calls"]  # today is re-read (lookback): still noted once
        assert again.details["unknown_counts"] == noted

    client.force_login(alice)
    page = client.get(reverse("sync-status", args=[org_a.slug])).content.decode()
    assert "3 calls with unknown status &#x27;canceled&#x27;" in page

    api = api_client_for(alice)
    listed = api.get(f"/api/v1/environments/{env.pk}/calls",
                     {"date_from": sim.today.isoformat(), "date_to": sim.today.isoformat(),
                      "per_page": 100}).json()["data"]
    assert {c["status"] for c in listed if c["id"] in canceled} == {"canceled"}
    assert next(c for c in listed if c["id"] == internal)["direction"] == "internal"

    # The first local day (America/Sao_Paulo) was only partly read, so reports leave it out:
    # compare from the first whole local day.
    first = sim.start_date + timedelta(days=1)
    report = api.get("/api/v1/reports/calls/", {
        "environment": env.pk, "start_date": first.isoformat(),
        "end_date": sim.today.isoformat()}).json()["summary"]["totals"]
    mirrored = Call.objects.filter(
        environment=env, is_testing=False,
        started_at__gte=datetime.combine(first, datetime.min.time(), tzinfo=org_a.tzinfo))
    expected_other = mirrored.exclude(status__in=KNOWN_OUTCOMES).count()
    assert report["total"] == mirrored.count()
    assert report["other"] == expected_other and expected_other >= 3


def test_boolean_strings_are_read_and_other_values_rejected(org_a):
    with served(small_config(days=2, calls_per_day=30)) as (sim, server):
        env = point_env(org_a, sim, server)
        first, second, third = (c["id"] for c in todays_calls(sim)[:3])
        tamper = sim.tamper(ENV)
        tamper.calls[first] = {"is_testing": "false"}
        tamper.calls[second] = {"is_testing": "true"}
        tamper.calls[third] = {"is_testing": 1}
        run = sync(env, sim)["calls"]
        assert run.status == RunStatus.SUCCEEDED and run.rejected == 1
        assert Call.objects.get(external_id=first).is_testing is False
        assert Call.objects.get(external_id=second).is_testing is True
        assert not Call.objects.filter(external_id=third).exists()
        assert "is_testing must be a boolean, got 1" in RejectedRecord.objects.get().reason


def test_ids_up_to_255_characters_are_kept_whole_and_longer_ones_rejected(org_a):
    with served(small_config(days=2, calls_per_day=30)) as (sim, server):
        env = point_env(org_a, sim, server)
        a, b, c = (x["id"] for x in todays_calls(sim)[:3])
        long_a, long_b = "a" * 200 + "-1", "a" * 200 + "-2"  # equal in their first 64
        sim.tamper(ENV).calls[a] = {"id": long_a, "sid": "S" * 255}
        sim.tamper(ENV).calls[b] = {"id": long_b}
        sim.tamper(ENV).calls[c] = {"id": "z" * 256}
        run = sync(env, sim)["calls"]
        assert run.status == RunStatus.SUCCEEDED and run.rejected == 1
        assert Call.objects.get(external_id=long_a).sid == "S" * 255
        assert Call.objects.filter(external_id=long_b).exists(), "no merge by truncation"
        assert not Call.objects.filter(external_id__startswith="zzz").exists()
        assert "more than 255" in RejectedRecord.objects.get().reason


def test_timestamps_keep_their_fractional_seconds(org_a, alice, api_client_for):
    with served(small_config(days=2, calls_per_day=30)) as (sim, server):
        env = point_env(org_a, sim, server)
        call = todays_calls(sim)[0]
        moment = call["created_at"][:19] + ".123456Z"
        sim.tamper(ENV).calls[call["id"]] = {"created_at": moment,
                                             "updated_at": call["created_at"][:19] + ".5Z"}
        assert sync(env, sim)["calls"].rejected == 0
        stored = Call.objects.get(external_id=call["id"])
        assert stored.started_at.microsecond == 123456
        assert stored.upstream_updated_at.microsecond == 500000
        assert stored.record["created_at"] == moment

        # The compatible API gives them back as the upstream sent them.
        day = sim.today.isoformat()
        listed = api_client_for(alice).get(
            f"/api/v1/environments/{env.pk}/calls",
            {"date_from": day, "date_to": day, "per_page": 100}).json()["data"]
        item = next(c for c in listed if c["id"] == call["id"])
        assert (item["created_at"], item["updated_at"]) == (moment,
                                                            call["created_at"][:19] + ".5Z")
        others = [c for c in listed if c["id"] != call["id"]]
        truth = {c["id"]: c for c in sim.truth.calls(ENV, sim.today, sim.today)}
        assert others and all(c["created_at"] == truth[c["id"]]["created_at"] and
                              c["updated_at"] == truth[c["id"]]["updated_at"] for c in others)


def test_a_page_with_more_items_than_asked_is_a_clear_sync_error(org_a):
    with served(small_config(days=2, calls_per_day=30)) as (sim, server):
        env = point_env(org_a, sim, server)
        sim.tamper(ENV).extra_items = 101  # a page of 100 + some asked: > per_page=100
        runs = sync(env, sim)
        calls = runs["calls"]
        assert calls.status == RunStatus.FAILED
        assert "per_page=100 was asked" in calls.error and "GET /calls" in calls.error
        assert "internal error" not in calls.error
        assert runs["callback_days"].status == RunStatus.SUCCEEDED
