"""A call's record stored without what its columns give back (`sync.stored_record`): the
record read back is the record sent, key for key and type for type, whatever the upstream
wrote; a row stored whole still reads as itself; the sync, the erasure and the retention
store it so, and the mirror's rows are the smaller for it."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.models import Call
from sync.providers.records import Rejected
from sync.providers.talkover.records import talkover_call
from sync.providers.talkover.shape import call_values
from sync.stored_record import _moment, _same_instant, forms, record_of, stored
from tests.support.sync_support import ENV, mirror_diff, point_env, served, small_config

FORM = "talkover/2"


class _Env:
    pk = 7


def _row_of(item: dict) -> dict | None:
    """The row the sync writes for `item`, or None when the sync refuses the record."""
    try:
        return talkover_call(_Env(), item, {}, call_values(item))
    except Rejected:
        return None


# What an upstream may write for each key: the documented spelling and the others a lenient
# parser accepts (numbers for ids, floats for integers, strings for booleans, offsets and
# fractions for instants, nulls), so a key is left out only when the column gives it back.
_instants = st.sampled_from([
    "2026-08-27T23:59:59Z", "2026-08-27T23:59:59.5Z", "2026-08-27T23:59:59.123456Z",
    "2026-08-27T23:59:59.000Z", "2026-08-27T23:59:59+00:00", "2026-08-27T20:59:59-03:00",
    "2026-08-27 23:59:59", "2026-08-27T23:59:59.100Z", "2026-08-27T23:59:59.1234567Z"])
_texts = st.one_of(st.text(max_size=12), st.none(), st.just(""))
_values = {
    "id": st.one_of(st.uuids().map(str), st.integers(0, 10**9)),
    "sid": st.one_of(st.just("CA2c9faaafb8ceb4ba7fb32bf984c3d161"), st.none(), st.just(""),
                     st.integers(0, 99)),
    "to": _texts, "from": _texts, "to_formatted": _texts, "from_formatted": _texts,
    "direction": st.sampled_from(["inbound", "outbound", "internal", "", None]),
    "status": st.sampled_from(["completed", "no-answer", "canceled", "", None]),
    "duration": st.one_of(st.integers(0, 10**6), st.sampled_from([5.0, 0.0, None])),
    "is_testing": st.sampled_from([True, False, "true", "false", None]),
    "created_at": _instants,
    "updated_at": st.one_of(_instants, st.none()),
    "agent": st.one_of(st.none(), st.fixed_dictionaries(
        {"id": st.one_of(st.uuids().map(str), st.integers(0, 99), st.just(""), st.none()),
         "name": st.text(max_size=8)})),
    "extra": st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)),
}


@st.composite
def records(draw) -> dict:
    keys = draw(st.lists(st.sampled_from(sorted(_values)), unique=True, min_size=1))
    item = {key: draw(_values[key]) for key in keys}
    item.setdefault("id", draw(_values["id"]))
    item.setdefault("created_at", draw(_instants))
    return item


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_the_record_read_back_is_the_record_sent(item):
    row = _row_of(item)
    if row is None:
        return
    sent = json.loads(json.dumps(item))
    kept = stored(item, row, FORM)
    assert item == sent  # storing leaves the record given as it was
    # Through JSON, as the database keeps it.
    kept = json.loads(json.dumps(kept))
    back = record_of(kept, row)
    assert back == item
    assert [type(back[k]) for k in item] == [type(v) for v in item.values()]
    if isinstance(kept, list):
        left_out = {key for bit, (key, _a, _k) in enumerate(forms()[FORM]) if kept[1] >> bit & 1}
        assert not left_out & set(kept[2])  # a key is either given back or kept, not both
        if "agent.id" in left_out:
            assert "id" not in kept[2]["agent"]


def test_a_documented_record_keeps_only_what_no_column_holds():
    item = {"id": "6016e26c-2565-4a46-8c0b-1c3307f52907",
            "sid": "CA2c9faaafb8ceb4ba7fb32bf984c3d161", "to": "+5585964102039",
            "from": "+5531903127775", "to_formatted": "(85) 96410-2039",
            "from_formatted": "(31) 90312-7775", "direction": "outbound",
            "status": "completed", "duration": 68, "is_testing": False,
            "created_at": "2026-08-27T23:59:59Z", "updated_at": "2026-08-28T00:01:36Z",
            "agent": {"id": "70afb6b1", "name": "Cobrança Amigável", "label": "Cobrança"}}
    row = _row_of(item)
    kept = stored(item, row, FORM)
    named = {"name": "Cobrança Amigável", "label": "Cobrança"}
    assert kept == [FORM, 2**13 - 1, {"agent": named}]
    assert item["agent"]["id"] == "70afb6b1"  # the record given is left whole
    assert record_of(kept, row) == item
    # Fractions as Talkover writes them are given back by the instant too.
    fraction = {**item, "updated_at": "2026-08-28T00:01:36.5Z"}
    assert stored(fraction, _row_of(fraction), FORM)[1] == 2**13 - 1
    # A spelling the column writes otherwise stays as sent.
    odd = {**item, "created_at": "2026-08-27T23:59:59+00:00", "duration": 68.0}
    kept = stored(odd, _row_of(odd), FORM)
    assert kept[2] == {"agent": named, "created_at": "2026-08-27T23:59:59+00:00",
                       "duration": 68.0}
    assert record_of(kept, _row_of(odd)) == odd
    # A row stored in the first form (the agent's id kept in `raw`) still reads as sent.
    first = ["talkover/1", 2**12 - 1, {"agent": item["agent"]}]
    assert record_of(json.loads(json.dumps(first)), row) == item


def test_a_record_stored_whole_reads_as_itself():
    item = {"id": "x", "created_at": "2026-01-01T00:00:00Z", "call_transcription": []}
    row = {"external_id": "another", "started_at": datetime(2026, 1, 2, tzinfo=UTC)}
    assert record_of(item, row) == item
    assert stored(item, row, "") is item  # a provider without a form
    assert record_of(["not a form", 1, {}], row) == ["not a form", 1, {}]


@pytest.mark.django_db
def test_the_sync_stores_records_short_and_reads_them_back_exactly(org_a):
    with served(small_config(days=3, calls_per_day=60)) as (sim, server):
        env = point_env(org_a, sim, server)
        from sync.engine import sync_environment

        assert not sync_environment(env, now=sim.now).failed
        # Every call, field by field, and its record as sent (mirror_diff reads `record`).
        assert mirror_diff(env, sim, ENV) == []
        raws = list(Call.objects.filter(environment=env).values_list("raw", flat=True))
        assert raws and all(isinstance(r, list) and r[0] == FORM for r in raws)
        assert {key for r in raws for key in r[2]} <= {"agent"}
        assert not any("id" in r[2].get("agent", {}) for r in raws)  # the column gives it
        with connection.cursor() as cursor:
            cursor.execute("SELECT avg(pg_column_size(raw)) FROM sync_call "
                           "WHERE environment_id = %s", [env.pk])
            assert cursor.fetchone()[0] < 150  # the whole record is about 500 bytes


_zones = st.sampled_from([UTC, timezone(timedelta(hours=-3)),
                          timezone(timedelta(hours=5, minutes=30))])


@settings(max_examples=600, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=_zones),
       st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d %H:%M:%SZ",
                        "%Y-%m-%dT%H:%M:%S%z", "%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%S"]),
       st.booleans(), st.integers(-2, 2))
def test_an_instant_is_given_back_exactly_when_written_so(value, spelling, utc, shift):
    """The shortcut for the usual spelling answers as writing the instant would."""
    shown = (value.astimezone(UTC) if utc else value) + timedelta(seconds=shift)
    sent = shown.strftime(spelling)
    assert _same_instant(sent, value) == (_moment(value) == sent)
    assert _same_instant(_moment(value), value)
