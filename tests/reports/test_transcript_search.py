"""Transcript search in the calls explorer, the hit highlighted on the call detail, and the
recording as a link and an audio player (Origins AI calls synced from the simulator)."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection

from reports.drill import at_param
from reports.transcript_search import highlight, search_terms
from sync.engine import sync_environment
from sync.models import Call
from sync.partitions import ddl as partitions
from tests.support.origins import AGENTS, KEY, origins_env
from tests.support.sync_support import served, small_config

pytestmark = pytest.mark.django_db(transaction=True)


def _ids(response) -> set[str]:
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    return {r["external_id"] for r in rows}


def test_search_finds_exactly_the_calls_saying_a_word_and_the_detail_marks_it(org_a, cast,
                                                                              client):
    with served(small_config()) as (sim, server):
        env = origins_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        records = [r for a in AGENTS for r in sim.truth.origins_calls(KEY, a) if r["call_id"]]
    long_call = next(r for r in records if len(r["call_transcription"]) >= 5)
    word = max(re.findall(r"\w+", long_call["call_transcription"][4]["text"]), key=len)
    said = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    want = {r["call_id"] for r in records
            if any(said.search(t["text"]) for t in r["call_transcription"])}
    assert 0 < len(want) < len(records)

    client.force_login(cast["bob"])
    base = f"/o/{org_a.slug}/calls/"
    # The explorer opens on the default period; the simulated history is older, so ask for it.
    days = sorted(c.started_at.date() for c in Call.objects.filter(environment=env))
    span = {"date_from": (days[0] - timedelta(days=1)).isoformat(),
            "date_to": (days[-1] + timedelta(days=1)).isoformat()}
    assert _ids(client.get(base, {"transcript": word, "format": "csv", **span})) == want
    assert _ids(client.get(base, {"transcript": word.upper(), "format": "csv", **span})) == want
    page = client.get(base, {"transcript": word, **span}).content.decode()
    call = Call.objects.get(external_id=sorted(want)[0])
    # The link carries the call's start (`at`: its month's partition on PostgreSQL).
    link = f"/o/{org_a.slug}/calls/{call.pk}/?at={quote(at_param(call))}&transcript={word}"
    assert link.replace("&", "&amp;") in page

    detail = client.get(link).content.decode()
    assert f"<mark>{word}</mark>" in detail or f"<mark>{word.capitalize()}</mark>" in detail
    assert 'class="hit"' in detail
    url = call.raw["call_recording_url"]
    assert f'<audio controls preload="none" src="{url}">' in detail
    assert f'href="{url}"' in detail

    # Hostile searches are answered (no 5xx); overlong ones are a 400.
    for text in ("' & | ! (", "-", '"unclosed', "or", "\\x00"):
        assert client.get(base, {"transcript": text}).status_code == 200, text
    assert client.get(base, {"transcript": "x" * 201}).status_code == 400
    # Another tenant's call is a 404, its transcript never searched.
    client.force_login(cast["carol"])
    assert client.get(link).status_code == 404
    assert client.get(f"/o/{org_a.slug}/calls/", {"transcript": word}).status_code == 404


def test_the_search_is_served_by_the_gin_index(org_a):
    from reports.transcript_search import filter_transcripts

    qs = filter_transcripts(Call.objects.order_by(), "replacement")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan TO off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    # The search GIN index, on PostgreSQL's partitions their copies of it.
    assert any(name in plan for name in partitions.leaf_indexes("call_env_search_gin")
               ), plan


def test_a_recording_that_is_not_a_web_link_is_not_linked(org_a, alice, client):
    with served(small_config()) as (sim, server):
        env = origins_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
    call = Call.objects.filter(environment=env, status="completed").first()
    Call.objects.filter(pk=call.pk).update(raw={**call.raw,
                                                "call_recording_url": "javascript:alert(1)"})
    client.force_login(alice)
    detail = client.get(f"/o/{org_a.slug}/calls/{call.pk}/").content.decode()
    assert "<audio" not in detail and 'href="javascript:' not in detail


def test_highlight_escapes_first_and_marks_whole_words():
    assert search_terms('"a phrase" -not or Olá') == ["a", "phrase", "olá"]
    assert highlight("<b>Olá</b> olá holá", "olá") == \
        "&lt;b&gt;<mark>Olá</mark>&lt;/b&gt; <mark>olá</mark> holá"
    assert highlight("x < y", "") == "x &lt; y"
