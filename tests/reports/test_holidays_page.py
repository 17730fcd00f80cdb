"""Settings → Holidays: owners and admins list the organisation's holidays (the anomaly alerts
on calls judge them as Sundays), add one by hand, remove one, and add a country's public
holidays of this year or the next in one click (again: nothing changes); days in the reader's
locale, errors and messages in both languages; bad input is a 400 with the form's error;
a viewer gets 403, another organisation's member 404 (and another organisation's holiday is
a 404); the admin edits the same list."""
from __future__ import annotations

from datetime import date

import pytest
import time_machine

from reports.holidays.models import MAX_HOLIDAYS, Holiday, holidays_of

pytestmark = pytest.mark.django_db

URL = "/o/org-a/settings/holidays/"
PT = {"accept-language": "pt-br"}


def _days(org) -> dict[date, str]:
    return dict(Holiday.objects.for_organization(org).values_list("day", "name"))


@time_machine.travel("2026-11-28 12:00Z")
def test_an_owner_adds_imports_and_removes_holidays(client, alice, org_a):
    client.force_login(alice)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "judge an hour of a holiday against the same hour of past Sundays" in html
    # Brazil by default (org A is in Sao Paulo), this year and the next.
    assert '<option value="BR" selected>Brazil (BR)</option>' in html
    assert '<option value="2026" selected>2026</option>' in html
    assert '<option value="2027">2027</option>' in html
    assert '<option value="2028"' not in html
    assert 'href="/o/org-a/settings/holidays/" aria-current="page"' in html  # in Settings

    added = client.post(URL, {"action": "add", "day": "2026-12-25", "name": "Company Christmas"},
                        follow=True)
    assert added.status_code == 200 and "Holiday added: Company Christmas." in (
        added.content.decode())
    assert _days(org_a) == {date(2026, 12, 25): "Company Christmas"}
    again = client.post(URL, {"action": "add", "day": "2026-12-25", "name": "Other"})
    assert again.status_code == 400
    assert "This day is already listed as “Company Christmas”." in again.content.decode()

    imported = client.post(URL, {"action": "import", "country": "BR", "year": "2026"},
                           follow=True)
    html = imported.content.decode()
    assert "9 of the 10 public holidays of Brazil (BR) in 2026 added" in html
    days = _days(org_a)
    assert len(days) == 10 and days[date(2026, 12, 25)] == "Company Christmas"  # kept
    assert days[date(2026, 4, 21)] == "Tiradentes' Day"
    assert "Tuesday, 04/21/2026" in html  # the reader's locale
    # Idempotent: the same click adds nothing.
    once_more = client.post(URL, {"action": "import", "country": "BR", "year": "2026"},
                            follow=True)
    assert "0 of the 10 public holidays" in once_more.content.decode()
    assert _days(org_a) == days

    # In Portuguese: the page, the days, the names from the package, the messages.
    Holiday.objects.for_organization(org_a).exclude(day=date(2026, 12, 25)).delete()
    imported = client.post(URL, {"action": "import", "country": "BR", "year": "2027"},
                           headers=PT, follow=True)
    html = imported.content.decode()
    assert "10 dos 10 feriados nacionais de Brasil (BR) em 2027 adicionados" in html
    assert '<option value="BR" selected>Brasil (BR)</option>' in html
    assert "Quarta-feira, 21/04/2027" in html and "Tiradentes" in html
    assert "julgam uma hora de feriado pela mesma hora dos domingos anteriores" in html
    assert _days(org_a)[date(2027, 11, 2)] == "Finados"

    christmas = Holiday.objects.for_organization(org_a).get(day=date(2026, 12, 25))
    removed = client.post(URL, {"action": "remove", "holiday": christmas.pk}, headers=PT,
                          follow=True)
    assert "Feriado removido: Company Christmas." in removed.content.decode()
    assert date(2026, 12, 25) not in holidays_of(org_a)


@pytest.mark.parametrize(("posted", "english", "portuguese"), [
    ({"action": "add", "day": "not a date", "name": "x"}, "Enter a valid date",
     "Informe uma data válida"),
    ({"action": "add", "day": "1999-12-31", "name": "x"}, "A holiday is a day from 2000 to 2100",
     "Um feriado é um dia de 2000 a 2100"),
    ({"action": "add", "day": "99999-01-01", "name": "x"}, "Enter a valid date",
     "Informe uma data válida"),
    ({"action": "add", "day": "2026-12-24", "name": ""}, "This field is required",
     "Este campo é obrigatório"),
    ({"action": "add", "day": "2026-12-24", "name": "x" * 101}, "at most 100 characters",
     "no máximo 100 caracteres"),
    ({"action": "import", "country": "XX", "year": "2026"}, "Select a valid choice",
     "Faça uma escolha válida"),
    ({"action": "import", "country": "BR", "year": "1999"}, "Select a valid choice",
     "Faça uma escolha válida"),
    ({"action": "import", "country": "BR", "year": "next"}, "Select a valid choice",
     "Faça uma escolha válida"),
])
@time_machine.travel("2026-11-28 12:00Z")
def test_bad_input_is_a_400_with_the_form_s_error_in_both_languages(client, alice, org_a,
                                                                    posted, english,
                                                                    portuguese):
    client.force_login(alice)
    answer = client.post(URL, posted)
    assert answer.status_code == 400 and english in answer.content.decode()
    answer = client.post(URL, posted, headers=PT)
    assert answer.status_code == 400 and portuguese in answer.content.decode()
    assert not Holiday.objects.for_organization(org_a).exists()


@pytest.mark.parametrize("posted", [
    {"action": "remove", "holiday": "not a number"}, {"action": "remove"},
    {"action": "drop table"}, {"action": "remove", "holiday": "-1"},
    {"action": "add", "day": "2026-12-24", "name": "\x00"},
    {"action": "remove", "holiday": "²"}, {"action": "remove", "holiday": "9" * 40},
])
def test_hostile_actions_are_refused_not_a_500(client, alice, org_a, posted):
    client.force_login(alice)
    assert client.post(URL, posted).status_code == 400


def test_the_cap_is_a_form_error(client, alice, org_a):
    Holiday.objects.bulk_create([Holiday(organization=org_a, day=date(2001, 1, 1).fromordinal(
        date(2001, 1, 1).toordinal() + i), name="day") for i in range(MAX_HOLIDAYS)])
    client.force_login(alice)
    answer = client.post(URL, {"action": "add", "day": "2026-12-24", "name": "x"})
    assert answer.status_code == 400 and "At most 400 holidays" in answer.content.decode()
    answer = client.post(URL, {"action": "import", "country": "BR", "year": "2026"},
                         headers=PT)
    assert answer.status_code == 400 and "No máximo 400 feriados" in answer.content.decode()
    assert len(holidays_of(org_a)) == MAX_HOLIDAYS


def test_only_owners_and_admins_change_it_and_only_their_own(client, bob, carol, org_a, org_b):
    theirs = Holiday.objects.create(organization=org_b, day=date(2026, 12, 25), name="B's")
    client.force_login(bob)  # a viewer of org A
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "add", "day": "2026-12-24", "name": "x"}
                       ).status_code == 403
    client.force_login(carol)  # an owner of org B
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"action": "remove", "holiday": theirs.pk}).status_code == 404
    assert client.get("/o/org-b/settings/holidays/").status_code == 200
    assert not Holiday.objects.for_organization(org_a).exists()


def test_another_organisation_s_holiday_is_a_404(client, alice, org_a, org_b):
    theirs = Holiday.objects.create(organization=org_b, day=date(2026, 12, 25), name="B's")
    client.force_login(alice)
    assert client.post(URL, {"action": "remove", "holiday": theirs.pk}).status_code == 404
    assert Holiday.objects.for_organization(org_b).filter(pk=theirs.pk).exists()


def test_the_admin_edits_the_same_list(client, alice, org_a, org_b):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    add = "/admin/reports/holiday/add/"
    assert client.post(add, {"organization": org_a.pk, "day": "2026-12-24",
                             "name": "Eve"}).status_code == 302
    assert holidays_of(org_a) == {date(2026, 12, 24)}
    twice = client.post(add, {"organization": org_a.pk, "day": "2026-12-24", "name": "Eve"})
    assert twice.status_code == 200 and "already exists" in twice.content.decode()
    # Org B is not hers: not offered, not accepted.
    assert client.post(add, {"organization": org_b.pk, "day": "2026-12-24",
                             "name": "Eve"}).status_code == 200
    assert not holidays_of(org_b)
