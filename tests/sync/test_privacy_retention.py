"""Per-kind retention of personal data: transcripts, recording links and
numbers anonymised in place by the daily maintenance once older than an owner's setting;
nothing without one; the calls (and reports) stay; the sync's later writes obey it too."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sync.models import Call, CallRollup, PrivacyRetention
from sync.privacy.keys import number_hash, token_of
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.tasks import maintain_partitions
from sync.write.rollups import local_days_of, refresh_rollups
from sync.write.upsert import canonical, upsert
from tests.support.factories import make_call

CALLER = "+5521976543210"


def origins_raw(n: int) -> dict:
    return {"call_id": n, "from_number": CALLER, "to_number": "+5511000000000",
            "call_transcription": [{"text": "meu número é 21 97654-3210"}],
            "call_recording_url": f"https://rec.example/{n}.mp3", "recording_id": f"r{n}",
            "call_context": {"name": "Maria"},
            "stt_data": [{"latency_ms": 120, "text": "olá"}],
            "call_insights": {"sentiment": "positive", "intent": "billing", "summary": "Maria"}}


def aged_calls(env):
    now = timezone.now()
    calls = {age: make_call(env, None, age, started_at=now - timedelta(days=age),
                            from_number=CALLER, from_formatted="(21) 97654-3210",
                            transcript="meu número é 21 97654-3210", raw=origins_raw(age))
             for age in (5, 20, 45, 90)}
    refresh_rollups(env, local_days_of([c.started_at for c in calls.values()],
                                       env.organization.tzinfo))
    return calls


def rollups(env) -> list:
    return sorted(CallRollup.objects.filter(environment=env)
                  .values_list("day", "status", "count", "duration_sum"))


def test_nothing_is_anonymised_without_an_owners_setting(env_a):
    calls = aged_calls(env_a)
    before = list(Call.objects.order_by("pk").values())
    maintain_partitions()
    PrivacyRetention.objects.create(organization=env_a.organization)  # all kinds empty
    maintain_partitions()
    assert list(Call.objects.order_by("pk").values()) == before
    assert len(calls) == 4


def test_each_kind_ages_out_in_place_and_reports_keep_their_totals(env_a):
    calls = aged_calls(env_a)
    counted = rollups(env_a)
    PrivacyRetention.objects.create(organization=env_a.organization, recordings_days=10,
                                    transcripts_days=30, numbers_days=60)
    assert maintain_partitions()["personal_data"] == {"org-a": 3}
    got = {age: Call.objects.get(pk=c.pk) for age, c in calls.items()}
    token = token_of(number_hash(CALLER))
    # 5 days: untouched.
    assert got[5].raw == origins_raw(5) and got[5].transcript
    # 20 days: the recording link only.
    assert not got[20].raw["call_recording_url"] and not got[20].raw["recording_id"]
    assert got[20].raw["call_transcription"] and got[20].transcript
    # 45 days: transcripts too (the stage timings and sentiment stay), numbers kept.
    assert got[45].transcript == "" and got[45].raw["call_transcription"] == []
    assert got[45].raw["stt_data"] == [{"latency_ms": 120}]
    assert got[45].raw["call_insights"] == {"sentiment": "positive", "intent": "billing"}
    assert got[45].from_number == CALLER
    # 90 days: numbers become their keyed token (formatted too), contexts go.
    assert got[90].from_number == token and got[90].from_formatted == token
    assert got[90].raw["from_number"] == token and not got[90].raw["call_context"]
    assert got[90].to_number == token_of(number_hash("+5511000000000"))
    assert "97654" not in str(got[90].raw) + got[90].transcript
    assert got[90].payload_hash == canonical(got[90].raw).digest
    assert Call.objects.count() == 4 and rollups(env_a) == counted
    # The next day's pass reads only what aged out since: nothing here.
    assert maintain_partitions()["personal_data"] == {"org-a": 0}


def test_the_sync_writes_an_aged_out_call_anonymised(env_a):
    PrivacyRetention.objects.create(organization=env_a.organization, transcripts_days=30)
    started = timezone.now() - timedelta(days=40)
    raw = canonical(origins_raw(1))
    row = {"environment_id": env_a.pk, "external_id": "c-1", "from_number": CALLER,
           "to_number": "+5511000000000", "direction": "inbound", "status": "completed",
           "duration": 10, "started_at": started, "transcript": "meu número",
           "raw": raw, "payload_hash": raw.digest}
    counts = upsert(Call, env_a, [dict(row)], key="external_id",
                    update_fields=CALL_UPDATE_FIELDS + ["transcript"])
    assert counts.created == 1
    call = Call.objects.get()
    assert call.transcript == "" and call.raw["call_transcription"] == []
    assert call.from_number == CALLER  # numbers have no limit here
    again = upsert(Call, env_a, [dict(row, raw=raw)], key="external_id",
                   update_fields=CALL_UPDATE_FIELDS + ["transcript"])
    assert again.unchanged == 1, "a re-read of the same record writes nothing"
