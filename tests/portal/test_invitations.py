"""Members join by invitation, never by being added (adding would write across tenants).

carol (owner of B) types the address of erin (a member of A with an account): erin is not
added to B, nothing tells carol that erin has an account, and even after erin joins B
carol never sees or touches erin's personal API tokens.
"""
from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from portal.models import ApiToken, AuditLog, Invitation, Membership, Organization, Role
from tests.support.cast import make_member


@pytest.fixture
def erin(django_user_model, org_a):
    return make_member(django_user_model, "erin", org_a, Role.ADMIN)


def _invite(client, user, email: str, role: str = "analyst"):
    client.force_login(user)
    return client.post("/o/org-b/settings/members/", {"email": email, "role": role}, follow=True)


def _link(message) -> str:
    return re.search(r"https?://\S+(/invitations/[^/\s]+/)", message.body).group(1)


def test_inviting_an_existing_account_adds_nobody_and_reveals_nothing(client, carol, erin):
    known = _invite(client, carol, "erin@example.com")
    unknown = _invite(client, carol, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert not Membership.objects.filter(user=erin, organization__slug="org-b").exists()
    # The same words for both addresses, and never erin's username.
    known_body = known.content.decode().replace("erin@example.com", "X")
    unknown_body = unknown.content.decode().replace("nobody@example.com", "X")
    assert "An invitation to join as" in known_body
    said = [[str(m).replace(e, "X") for m in r.context["messages"]]
            for r, e in ((known, "erin@example.com"), (unknown, "nobody@example.com"))]
    assert said[0] == said[1] and len(said[0]) == 1
    assert "erin" not in unknown_body.replace("erin@example.com", "")
    assert ">erin<" not in known_body and "erin (" not in known_body
    assert [m.to for m in mail.outbox] == [["erin@example.com"], ["nobody@example.com"]]
    # The email is a subject / text / html trio with the signed link.
    message = mail.outbox[0]
    assert "Org B" in message.subject
    assert "/invitations/" in message.body
    assert message.alternatives and "/invitations/" in message.alternatives[0][0]
    assert AuditLog.objects.filter(action="member.invited").count() == 2


def test_existing_user_accepts_while_logged_in(client, carol, erin):
    _invite(client, carol, "erin@example.com", "analyst")
    link = _link(mail.outbox[0])
    client.force_login(erin)
    page = client.get(link)
    assert page.status_code == 200 and "Org B" in page.content.decode()
    assert not Membership.objects.filter(user=erin, organization__slug="org-b").exists()
    accepted = client.post(link)
    assert accepted.status_code == 302 and accepted["Location"] == "/o/org-b/"
    member = Membership.objects.get(user=erin, organization__slug="org-b")
    assert member.role == Role.ANALYST
    assert AuditLog.objects.filter(action="member.joined", actor=erin).exists()
    # A link works once.
    assert client.get(link).status_code == 410


def test_new_person_creates_an_account_through_the_link(client, carol):
    _invite(client, carol, "dora@example.com", "viewer")
    link = _link(mail.outbox[0])
    client.logout()
    form = client.get(link)
    assert form.status_code == 200 and "Create account" in form.content.decode()
    bad = client.post(link, {"username": "dora", "password1": "x", "password2": "y"})
    assert bad.status_code == 400
    created = client.post(link, {"username": "dora", "password1": "a-Long-pass-9",
                                 "password2": "a-Long-pass-9"})
    assert created.status_code == 302
    dora = get_user_model().objects.get(username="dora")
    assert dora.email == "dora@example.com" and dora.has_usable_password()
    assert Membership.objects.get(user=dora).organization.slug == "org-b"
    assert client.get("/o/org-b/").status_code == 200  # logged in as dora, a member now


def test_expired_forged_or_withdrawn_links_explain_what_to_do(client, carol, erin):
    _invite(client, carol, "erin@example.com")
    link = _link(mail.outbox[0])
    client.force_login(erin)
    assert client.get(link[:-3] + "xx/").status_code == 410
    Invitation.objects.across_organizations().update(created_at=timezone.now() - timedelta(days=8))
    stale = client.get(link)
    assert stale.status_code == 410
    assert "Ask an owner or admin of the organisation to invite you again" in \
        stale.content.decode()
    assert client.post(link).status_code == 410
    assert not Membership.objects.filter(user=erin, organization__slug="org-b").exists()


def test_withdrawing_an_invitation(client, carol, alice):
    _invite(client, carol, "erin@example.com")
    invitation = Invitation.objects.across_organizations().get()
    assert "erin@example.com" in client.get("/o/org-b/settings/members/").content.decode()
    # Another organisation's owner cannot withdraw it (404), carol can.
    client.force_login(alice)
    assert client.post(f"/o/org-a/settings/invitations/{invitation.pk}/cancel/").status_code \
        == 404
    client.force_login(carol)
    assert client.post(f"/o/org-b/settings/invitations/{invitation.pk}/cancel/").status_code \
        == 302
    assert not Invitation.objects.across_organizations().exists()
    assert client.get(_link(mail.outbox[0])).status_code == 410


def test_an_organisation_never_gains_power_over_a_members_tokens(client, carol, erin):
    token, _ = ApiToken.issue(erin, "erin-ci")
    # erin joins B through an invitation: carol now shares an organisation with her.
    _invite(client, carol, "erin@example.com", "viewer")
    client.force_login(erin)
    client.post(_link(mail.outbox[0]))
    client.post("/o/org-b/settings/tokens/", {"name": "erin-made-in-b"})
    carol.is_staff = True
    carol.save(update_fields=["is_staff"])
    client.force_login(carol)
    assert "erin-ci" not in client.get("/o/org-b/settings/tokens/").content.decode()
    assert client.post(f"/o/org-b/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert client.get("/admin/portal/apitoken/").status_code == 403
    assert client.get(f"/admin/portal/apitoken/{token.pk}/change/").status_code == 403
    assert "apitoken" not in client.get("/admin/").content.decode()
    # Not even the audit log of B (where erin made one) shows her tokens.
    audit = client.get("/admin/portal/auditlog/").content.decode()
    assert "member.joined" in audit and "erin-made-in-b" not in audit
    assert "api_token" not in audit
    token.refresh_from_db()
    assert token.is_active and token.name == "erin-ci"


def test_invitation_token_is_bound_to_its_row(carol, org_b):
    invitation = Invitation.objects.create(organization=org_b, email="x@example.com")
    token = invitation.make_token()
    assert Invitation.from_token(token) == invitation
    other = Invitation.objects.create(organization=Organization.objects.create(
        slug="org-c", name="Org C"), email="y@example.com")
    # Another invitation's payload under this signature: refused.
    forged = other.make_token().split(":", 1)[0] + ":" + token.split(":", 1)[1]
    assert Invitation.from_token(forged) is None
    assert Invitation.from_token("garbage") is None


def test_invitation_and_lockout_pages_speak_portuguese(client):
    client.cookies["django_language"] = "pt-br"
    page = client.get("/invitations/forged/").content.decode()
    assert "Este link de convite não é mais válido" in page


def test_a_signed_in_user_with_another_address_is_told_and_not_joined(client, carol, erin):
    _invite(client, carol, "dora@example.com")
    link = _link(mail.outbox[0])
    client.force_login(erin)  # erin@example.com holds dora's link
    for method in ("get", "post"):
        answer = getattr(client, method)(link)
        assert answer.status_code == 403
        assert "This invitation was sent to dora@example.com, and you are signed in as erin " \
               "with another address" in answer.content.decode()
    client.cookies["django_language"] = "pt-br"
    assert "Este convite foi enviado para dora@example.com, e você entrou como erin" in \
        client.get(link).content.decode()
    assert not Membership.objects.filter(user=erin, organization__slug="org-b").exists()
    # Still dora's to accept.
    assert Invitation.objects.across_organizations().get().accepted_at is None


@pytest.mark.django_db(transaction=True)
def test_parallel_accepts_of_one_link_make_one_account_and_one_membership(carol):
    """Eight sign-ups through one link at once (threads, own connections): exactly one
    account and one membership; every other request is told the link was used (410)."""
    from django.test import Client

    from tests.support.summaries_support import race

    _invite(Client(), carol, "dora@example.com", "viewer")
    link = _link(mail.outbox[0])
    answers: list[int] = []
    names = itertools.count()

    def sign_up() -> None:
        name = f"dora{next(names)}"
        answers.append(Client().post(link, {"username": name, "password1": "a-Long-pass-9",
                                            "password2": "a-Long-pass-9"}).status_code)

    assert race(sign_up, racers=8) == []
    assert sorted(answers) == [302] + [410] * 7, answers
    accounts = get_user_model().objects.filter(email="dora@example.com")
    assert accounts.count() == 1
    assert list(Membership.objects.filter(organization__slug="org-b", role=Role.VIEWER)
                .values_list("user", flat=True)) == [accounts.get().pk]
    assert AuditLog.objects.filter(action="member.joined").count() == 1
