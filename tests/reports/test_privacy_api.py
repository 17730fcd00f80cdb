"""Privacy faces: the data-subject export and the erasure through the API, the
settings page, the admin list, the audit log and the owners' receipt, for the whole cast."""
from __future__ import annotations

import csv
import io

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from portal.models import AuditLog, Role
from reports.privacy.service import render_receipt
from sync.models import Call, Erasure, PrivacyRetention
from sync.privacy.keys import number_hash
from tests.support.cast import make_member
from tests.support.factories import make_call

NUMBER = "+5521976543210"
EXPORT = "/api/v1/privacy/subject-export/"
ERASURES = "/api/v1/privacy/erasures/"


@pytest.fixture
def calls(env_a, env_b):
    """Two calls of the caller in org A (one inbound, one to them), one other, and one in B."""
    mine = [make_call(env_a, None, 1, from_number=NUMBER, from_formatted="(21) 97654-3210",
                      transcript="Olá, meu número é 21 97654-3210",
                      raw={"from": NUMBER, "call_recording_url": "https://rec.example/1.mp3",
                           "call_context": {"customer": "Maria"}}),
            make_call(env_a, None, 2, to_number="5521976543210", direction="outbound")]
    make_call(env_a, None, 3)
    make_call(env_b, None, 4, from_number=NUMBER)
    return mine


def test_subject_export_json_and_csv_for_owners_and_admins_only(api_client_for, cast, calls,
                                                               org_a, django_user_model):
    alice = api_client_for(cast["alice"])
    answer = alice.get(EXPORT, {"number": "(21) 97654-3210"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["number"] == NUMBER and body["organization"] == "org-a"
    assert {c["id"] for c in body["calls"]} == {c.external_id for c in calls}
    first = next(c for c in body["calls"] if c["id"] == calls[0].external_id)
    assert first["recording_url"] == "https://rec.example/1.mp3"
    assert first["context"] == {"customer": "Maria"} and "97654-3210" in first["transcript"]
    assert first["started_at"].endswith("-03:00") and first["timezone"] == "America/Sao_Paulo"
    download = alice.get(EXPORT, {"number": NUMBER, "format": "csv"})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content)
                                       .decode("utf-8-sig"))))
    assert rows[0][:3] == ["environment", "call_id", "sid"] and len(rows) == 3
    exports = AuditLog.objects.filter(action="privacy.subject_export")
    assert exports.count() == 2 and NUMBER[3:] not in str(list(exports.values()))
    admin = make_member(django_user_model, "adam", org_a, Role.ADMIN)
    assert api_client_for(admin).get(EXPORT, {"number": NUMBER}).status_code == 200
    # A viewer: 403; another organisation: 404; not a number: 400; no answer is a 500.
    assert api_client_for(cast["bob"]).get(EXPORT, {"number": NUMBER}).status_code == 403
    carol = api_client_for(cast["carol"])
    assert carol.get(EXPORT, {"number": NUMBER, "organization": "org-a"}).status_code == 404
    assert len(carol.get(EXPORT, {"number": NUMBER}).json()["calls"]) == 1  # B's own
    for bad in ({"number": "zzz"}, {}, {"number": "1" * 80},
                {"number": NUMBER, "organization": "x" * 200}):
        assert alice.get(EXPORT, bad).status_code == 400, bad
        as_csv = alice.get(EXPORT, {**bad, "format": "csv"})  # the error is JSON, as documented
        assert as_csv.status_code == 400 and as_csv["Content-Type"] == "application/json", bad
    assert alice.get(EXPORT, {"number": NUMBER, "format": "x"}).status_code == 404  # DRF's
    assert api_client_for().get(EXPORT, {"number": NUMBER}).status_code in (401, 403)


def test_erasure_through_the_api_logs_the_hash_and_emails_the_owners(api_client_for, cast,
                                                                     calls, env_b):
    cast["alice"].email = "alice@example.com"
    cast["alice"].save()
    bob, carol = api_client_for(cast["bob"]), api_client_for(cast["carol"])
    assert bob.post(ERASURES, {"number": NUMBER}, format="json").status_code == 403
    assert bob.get(ERASURES).status_code == 403
    assert carol.post(ERASURES, {"number": NUMBER, "organization": "org-a"},
                      format="json").status_code == 404
    alice = api_client_for(cast["alice"])
    assert alice.post(ERASURES, {"number": "not one"}, format="json").status_code == 400
    made = alice.post(ERASURES, {"number": "021 97654 3210"}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["number_hash"] == number_hash(NUMBER) and body["calls"] == 2
    assert body["actor"] == "alice" and body["source"] == "api"
    assert NUMBER[1:] not in made.content.decode()
    listed = alice.get(ERASURES).json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]
    assert carol.get(ERASURES).json()["results"] == []
    # Org A's calls anonymised, org B's call of the same number untouched.
    for call in Call.objects.filter(pk__in=[c.pk for c in calls]):
        record = call.record
        assert NUMBER not in str(record) and "97654" not in call.transcript + call.from_formatted
        assert not record.get("call_recording_url") and not record.get("call_context")
    assert Call.objects.get(environment=env_b).from_number == NUMBER
    assert alice.get(EXPORT, {"number": NUMBER}).json()["calls"] == []
    entry = AuditLog.objects.get(action="privacy.erasure")
    assert entry.actor == cast["alice"] and entry.details["calls"] == 2
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "97654" not in mail.outbox[0].body


def test_receipt_in_both_languages(org_a, alice):
    erasure = Erasure.objects.create(organization=org_a, number_hash="f" * 64, actor=alice,
                                     environments={"1": {"name": "Vendas", "calls": 3}},
                                     calls=3)
    english = render_receipt(erasure, "a@example.com", "en")
    portuguese = render_receipt(erasure, "a@example.com", "pt-br")
    assert english.subject == "A caller was erased from Org A (3 calls)"
    assert portuguese.subject != english.subject and "Org A" in portuguese.subject
    for message in (english, portuguese):
        assert "(America/Sao_Paulo)" in message.body and "f" * 64 in message.body
        assert "Vendas: 3" in message.body and "f" * 64 in message.alternatives[0][0]
    assert translation.get_language() == "en"  # the override ended with the rendering


def test_settings_page_erases_for_admins_and_keeps_retention_for_owners(cast, calls, org_a,
                                                                       django_user_model):
    url = f"/o/{org_a.slug}/settings/privacy/"
    pages = {name: Client() for name in cast}
    for name, client in pages.items():
        client.force_login(cast[name])
    assert pages["alice"].get(url).status_code == 200
    assert pages["bob"].get(url).status_code == 403
    assert pages["carol"].get(url).status_code == 404
    admin = Client()
    admin.force_login(make_member(django_user_model, "adam", org_a, Role.ADMIN))
    refused = admin.post(url, {"action": "retention", "transcripts_days": 30, "confirm": "on"})
    assert refused.status_code == 403 and not PrivacyRetention.objects.exists()
    unconfirmed = pages["alice"].post(url, {"action": "retention", "transcripts_days": 30})
    assert unconfirmed.status_code == 400 and not PrivacyRetention.objects.exists()
    assert pages["alice"].post(url, {"action": "retention", "transcripts_days": 0,
                                     "confirm": "on"}).status_code == 400
    saved = pages["alice"].post(url, {"action": "retention", "transcripts_days": 30,
                                      "numbers_days": 400, "confirm": "on"})
    assert saved.status_code == 302
    policy = PrivacyRetention.objects.get()
    assert policy.days() == {"transcripts": 30, "numbers": 400}
    assert AuditLog.objects.filter(action="privacy.retention").count() == 1
    assert admin.post(url, {"action": "erase", "number": "zz", "confirm": "on"}
                      ).status_code == 400
    assert admin.post(url, {"action": "erase", "number": NUMBER}).status_code == 400  # confirm
    done = admin.post(url, {"action": "erase", "number": "+55 (21) 97654-3210",
                            "confirm": "on"}, follow=True)
    assert done.status_code == 200
    text = done.content.decode()
    assert "2 calls anonymised" in text and number_hash(NUMBER)[:14] in text
    assert "97654-3210" not in text
    translation.activate("pt-br")
    page = pages["alice"].get(url, HTTP_ACCEPT_LANGUAGE="pt-br")
    assert page.status_code == 200


def test_admin_lists_erasures_of_administered_organisations(world):
    alice = world.client("alice")
    listing = alice.get("/admin/sync/erasure/")
    assert listing.status_code == 200
    a, b = world.pairs[Erasure]
    assert a.number_hash[:20] in listing.content.decode()
    assert b.number_hash not in listing.content.decode()
    assert alice.get(f"/admin/sync/erasure/{b.pk}/change/").status_code == 404
    assert world.client("bob").get("/admin/sync/erasure/").status_code == 403
