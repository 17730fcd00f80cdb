"""A call's page written for people, in both languages: its timeline in the page's one zone
(no raw ISO time, no "from: None"), quality and insights under labels with their units
("MOS 3.94", "Jitter 13.2 ms", "Intent: billing"), its numbers with their country code, the
price's day as a local day, and a transcript the retention policy removed said so."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from sync.models import AgentPrice, PrivacyRetention
from tests.support.factories import build_call, save_calls
from tests.support.origins import env_for

STARTED = datetime(2026, 9, 11, 2, 41, 33, tzinfo=UTC)  # 09/10 11:41 PM in São Paulo
RECORD = {
    "call_id": "5b1d6f0e-0000-4000-8000-000000000001", "call_agent_id": 7,
    "call_status": "ANSWERED",
    "call_state_changes": [
        {"from": None, "to": "QUEUED", "at": "2026-09-11T02:41:33+00:00"},
        {"from": "QUEUED", "to": "INITIATED", "at": "2026-09-11T02:41:35+00:00"},
        {"from": "INITIATED", "to": "ANSWERED", "at": "2026-09-11T02:41:41+00:00"}],
    "call_timeline": [
        {"event": "queued", "timestamp": "2026-09-11T02:41:33+00:00"},
        {"event": "answered", "timestamp": "2026-09-11T02:41:41+00:00"},
        {"event": "hangup", "timestamp": "2026-09-11T02:44:02+00:00"}],
    "call_quality": {"mos": 3.94, "avg_latency_ms": 930, "jitter_ms": 13.2,
                     "packet_loss_pct": 0.52},
    "call_insights": {"sentiment": "positive", "summary": "Asked about an invoice.",
                      "intent": "billing"},
    "call_transcription": [],
}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture
def call(org_a):
    env = env_for(org_a)
    saved = build_call(env, STARTED, agent_external_id="7", status="answered",
                       from_number="+5561954484296", to_number="+5511987654321",
                       raw=RECORD, duration=141)
    save_calls(env, [saved])
    AgentPrice.objects.create(environment=env, agent_external_id="7",
                              valid_from=date(2026, 9, 11), checked_on=date(2026, 9, 11),
                              currency="USD", per_minute=Decimal("0.09"))
    return saved


def _page(user, call, language: str = "en") -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    found = call.__class__.objects.across_organizations().get(external_id=call.external_id)
    html = client.get(f"/o/org-a/calls/{found.pk}/").content.decode()
    return html.split('<details class="card">')[0]  # the raw record is shown as sent


@time_machine.travel(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), tick=False)
def test_the_call_page_reads_as_words_in_the_pages_zone(alice, call):
    html = _page(alice, call)
    assert not ISO.findall(html), ISO.findall(html)
    assert "None" not in html.replace("None for this call", "")
    assert "<time>09/10/2026 11:41 PM</time> · Queued" in html
    assert "<time>+ 8 s</time> · Answered" in html
    assert "<time>+ 2 m 29 s</time> · Hung up" in html
    assert "<dt>MOS</dt><dd>3.94</dd>" in html
    assert "<dt>Jitter</dt><dd>13.2 ms</dd>" in html
    assert "<dt>Packet loss</dt><dd>0.52%</dd>" in html
    assert "<dt>Average latency</dt><dd>930 ms</dd>" in html
    assert "<dt>Intent</dt><dd>billing</dd>" in html
    assert "<dt>Sentiment</dt><dd>positive</dd>" in html
    assert "+55 61 95448-4296" in html  # as a list spanning countries writes it
    assert "<dt>Agent</dt><dd>Agent #7</dd>" in html  # the vendor names none
    # The price first read on the UTC day 09/11 is in force from 09/10, 9 PM local.
    assert "estimate, price since 09/10/2026" in html


@time_machine.travel(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), tick=False)
def test_the_call_page_in_portuguese(alice, call):
    html = _page(alice, call, "pt-br")
    assert not ISO.findall(html)
    assert "<time>10/09/2026 23:41</time> · Na fila" in html
    assert "<dt>Jitter</dt><dd>13,2 ms</dd>" in html
    assert "<dt>Intenção</dt><dd>billing</dd>" in html
    assert "<dt>Sentimento</dt><dd>positivo</dd>" in html
    assert "Desligou" in html


@time_machine.travel(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), tick=False)
def test_a_transcript_the_retention_policy_removed_says_so(alice, call, org_a):
    assert "None for this call" in _page(alice, call)
    PrivacyRetention.objects.create(organization=org_a, transcripts_days=60)
    html = _page(alice, call)
    assert "Removed after 60 days by the retention policy" in html
    portuguese = _page(alice, call, "pt-br")
    assert "Removido após 60 dias pela política de retenção" in portuguese


def test_state_changes_read_as_changes_without_a_null_start():
    from django.utils import timezone, translation

    from reports.pages.call_record import timeline

    with translation.override("en"), timezone.override("America/Sao_Paulo"):
        events = timeline(RECORD["call_state_changes"])
    assert [(e.at, e.what) for e in events] == [
        ("09/10/2026 11:41 PM", "Queued"), ("+ 2 s", "Queued → Initiated"),
        ("+ 8 s", "Initiated → Answered")]
