"""Portuguese words an ops lead met untranslated or disagreeing: a rejected record's reason
on the sync page, a status in the admin's rollups, counts of calls that agree with
"Atendidas", "settled" said clearly, and one name for the language."""
from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import translation

from reports.pages.rejection_words import reason_text
from sync.models import CallRollup, RejectedRecord


def test_a_rejected_records_reason_is_in_the_readers_language(alice, env_a):
    RejectedRecord.objects.create(environment=env_a, stream="calls", fingerprint="f" * 32,
                                  payload="{}", reason="missing call_id")
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(alice)
    html = client.get("/o/org-a/sync/").content.decode()
    assert "call_id ausente" in html and "missing call_id" not in html
    with translation.override("pt-br"):
        assert reason_text("started_at must be a string, got int") == (
            "started_at deve ser um texto, recebido int")
        assert reason_text("something else entirely") == "something else entirely"


def test_the_admins_rollups_name_statuses_in_the_readers_language(world):
    env = world.env_a
    CallRollup.objects.create(environment=env, day="2026-11-20", agent_external_id="a",
                              direction="outbound", status="no-answer", count=3)
    client = world.client("alice")
    html = client.get(reverse("admin:sync_callrollup_changelist"),
                      HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Sem resposta" in html and ">no-answer<" not in html
    assert "Saída" in html  # the direction too


def test_counts_of_calls_agree_with_atendidas_and_settled_reads_clearly():
    with translation.override("pt-br"):
        assert translation.pgettext("calls", "Resolved") == "Resolvidas"
        assert translation.pgettext("calls", "Pending") == "Pendentes"
        assert translation.gettext("Resolved") == "Resolvido"  # an alert's state
        settled = translation.gettext("of %(n)s settled answered calls")
        assert "definidas" not in settled and "com janela encerrada" in settled


def test_the_language_has_one_name(alice, env_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(alice)
    html = client.get("/o/org-a/").content.decode()
    assert "Português (Brasil)" in html and "Português Brasileiro" not in html
