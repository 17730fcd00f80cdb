"""Settings → Resolution: owners and admins list the numbers left out of resolution; the
outcome report's page and API then count their calls as answered without a number (and its
rollup equals a recount); bad input is a form error in both languages; a viewer gets 403,
another organisation's member 404; the admin edits the same list; a number taking a share of
the answered calls is suggested and added in one click."""
from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from sync.models import Call, ExcludedNumber, OutcomeDayRollup
from sync.outcomes import rebuild_outcome_days, settle_organisation
from tests.reports.test_drill_links import _walk
from tests.reports.test_outcome_doors import world  # noqa: F401 (a fixture)
from tests.support.factories import build_call, save_calls

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/o/org-a/settings/resolution/"


def _digits(call: Call) -> str:
    number = call.to_number if call.direction == "outbound" else call.from_number
    return "".join(ch for ch in number if ch.isdigit())


def _api_totals(client, world) -> dict:  # noqa: F811
    answer = client.get("/api/v1/reports/outcomes/", {
        "environment": [e.pk for e in world["envs"]], "interval": "day",
        "start_date": world["first"].isoformat(), "end_date": world["today"].isoformat()})
    assert answer.status_code == 200, answer.content
    return answer.json()["summary"]["totals"]


def _rollup(envs) -> list[tuple]:
    return sorted(OutcomeDayRollup.objects.filter(environment__in=envs).values_list(
        "environment_id", "day", "agent_external_id", "direction", "answered",
        "answered_no_number", "repeat_01", "repeat_07", "repeat_30"))


def test_a_listed_number_counts_as_answered_without_a_number_on_every_face(
        client, alice, world, eager_tasks):  # noqa: F811
    client.force_login(alice)
    envs = world["envs"]
    before, rollup_before = _api_totals(client, world), _rollup(envs)
    answered = Counter(_digits(c) for c in Call.objects.filter(
        environment__in=envs, status__in=["answered", "completed"], is_testing=False,
        direction__in=["inbound", "outbound"]))
    busiest, n = answered.most_common(1)[0]
    page = client.get(URL)
    assert page.status_code == 200
    assert "are not matched to a next contact" in page.content.decode()

    written = "+" + busiest[:2] + " " + busiest[2:4] + " " + busiest[4:]
    assert client.post(URL, {"numbers": f"{written}, switchboard"}).status_code == 302
    assert list(ExcludedNumber.objects.for_organization(world["org"]).values_list(
        "digits", "label")) == [(busiest, "switchboard")]
    after = _api_totals(client, world)
    assert after["no_number"] == before["no_number"] + n
    assert after["answered"] == before["answered"]
    assert (after["settled"] + after["pending"]
            == before["settled"] + before["pending"] - n)
    # The page's every figure (the answered calls without a number among them) opens exactly
    # the calls it counts: the explorer's filter reads the same definition.
    assert _walk(client, f"/o/org-a/outcomes/?start={world['first']}&end={world['today']}") > 80
    kept = _rollup(envs)
    with transaction.atomic():
        rebuild_outcome_days([e.pk for e in envs], connection)
        assert _rollup(envs) == kept
        transaction.set_rollback(True)

    # Off the list: the figures and the rollup as they were.
    assert client.post(URL, {"numbers": ""}).status_code == 302
    assert _api_totals(client, world) == before
    assert _rollup(envs) == rollup_before


@pytest.mark.parametrize(("numbers", "english", "portuguese"), [
    ("no digits here", "has no digit", "não tem dígito"),
    ("1" * 21, "at most 20 digits", "no máximo 20 dígitos"),
    ("\n".join(f"+55 11 3000-{i:04d}" for i in range(201)), "At most 200 numbers",
     "No máximo 200 números"),
])
def test_bad_input_is_a_form_error_in_both_languages(client, alice, org_a, numbers, english,
                                                     portuguese):
    client.force_login(alice)
    answer = client.post(URL, {"numbers": numbers})
    assert answer.status_code == 400 and english in answer.content.decode()
    answer = client.post(URL, {"numbers": numbers}, headers={"accept-language": "pt-br"})
    assert answer.status_code == 400 and portuguese in answer.content.decode()
    assert not ExcludedNumber.objects.for_organization(org_a).exists()


def test_only_owners_and_admins_change_it_and_only_their_own(client, bob, carol, org_a, org_b):
    client.force_login(bob)  # a viewer of org A
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"numbers": "+55 11 3000-0000"}).status_code == 403
    client.force_login(carol)  # an owner of org B
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"numbers": "+55 11 3000-0000"}).status_code == 404
    assert not ExcludedNumber.objects.for_organization(org_a).exists()


def test_the_admin_edits_the_same_list_and_re_settles(client, alice, world, eager_tasks):  # noqa: F811
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    org = world["org"]
    call = Call.objects.filter(environment__in=world["envs"], direction="inbound",
                               is_testing=False).first()
    add = "/admin/sync/excludednumber/add/"
    refused = client.post(add, {"organization": org.pk, "digits": "no digit", "label": ""})
    assert refused.status_code == 200 and "has no digit" in refused.content.decode()
    assert client.post(add, {"organization": org.pk, "digits": call.from_number,
                             "label": "trunk"}).status_code == 302
    number = ExcludedNumber.objects.for_organization(org).get()
    assert number.digits == _digits(call)
    assert Call.objects.get(pk=call.pk).contact_excluded
    assert client.post(f"/admin/sync/excludednumber/{number.pk}/delete/",
                       {"post": "yes"}).status_code == 302
    assert not Call.objects.filter(contact_excluded=True).exists()


def test_a_number_taking_a_share_of_the_calls_is_suggested_and_added_in_one_click(
        client, alice, org_a, env_a, eager_tasks):
    now = timezone.now()
    rng = random.Random(3)
    trunk = [build_call(env_a, now - timedelta(hours=2 + i), direction="inbound", rng=rng,
                        from_number="+55 11 3000-0000") for i in range(51)]
    person = [build_call(env_a, now - timedelta(hours=3 + i), direction="inbound", rng=rng,
                         from_number="+55 11 98765-4321") for i in range(12)]
    save_calls(env_a, trunk + person)
    settle_organisation(org_a.pk)
    client.force_login(alice)
    page = client.get(URL, headers={"accept-language": "pt-br"}).content.decode()
    assert "Números a considerar" in page
    # 51 of the 63 answered calls, written as every share is in the reader's language.
    assert "551130000000: 51 chamadas atendidas (81,0%)" in page
    assert "5511987654321" not in page  # a person's few calls are no trunk's
    assert client.post(URL, {"action": "add", "number": "551130000000"}).status_code == 302
    assert list(ExcludedNumber.objects.for_organization(org_a).values_list("digits", flat=True)
                ) == ["551130000000"]
    assert Call.objects.filter(contact_excluded=True).count() == 51
    assert "551130000000: 51" not in client.get(URL).content.decode()
