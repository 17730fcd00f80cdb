"""Subscription settings pages, self-subscribe, send test, one-click unsubscribe, admin."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from reports.models import ReportDelivery, ReportSubscription
from reports.summaries.models import DeliveryStatus
from reports.summaries.unsubscribe import make_token
from tests.support.factories import make_subscription

RUN = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def sub(env_a, alice):
    return make_subscription(env_a.organization, name="Weekly ops", members=[alice],
                             addresses=["ops@example.com"], next_run_at=RUN)


def url(name: str, sub=None, slug: str = "org-a") -> str:
    return reverse(name, args=[slug] if sub is None else [slug, sub.pk])


FORM = {
    "name": "Monday digest", "cadence": "weekly", "weekday": "0", "hour": "8", "timezone": "",
    "language": "pt-br", "all_environments": "on", "addresses": "a@example.com, b@example.com",
    "attach_csv": "on", "active": "on",
}


@pytest.mark.parametrize(("who", "status"), [("alice", 200), ("bob", 200), ("carol", 404)])
def test_list_and_detail_visible_to_members_only(cast, sub, who, status):
    client = client_for(cast[who])
    assert client.get(url("subscription-list")).status_code == status
    assert client.get(url("subscription-detail", sub)).status_code == status


def test_anonymous_is_sent_to_login(sub):
    response = Client().get(url("subscription-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_query_count_does_not_grow_with_subscriptions(cast, sub, env_a, alice,
                                                           assert_max_queries):
    for i in range(15):
        extra = make_subscription(env_a.organization, name=f"S{i}", members=[alice])
        ReportDelivery.objects.create(subscription=extra, period_start=RUN.date(),
                                      period_end=RUN.date(), status=DeliveryStatus.SENT)
    client = client_for(alice)
    # The organisation frame (switcher, environment chips, firing alerts) adds a constant few.
    with assert_max_queries(11):
        response = client.get(url("subscription-list"))
    assert response.status_code == 200
    assert response.content.decode().count("Unsubscribe me") == 16


@pytest.mark.parametrize(("who", "status"), [("alice", 302), ("bob", 403), ("carol", 404)])
def test_create_needs_admin(cast, env_a, who, status):
    response = client_for(cast[who]).post(url("subscription-create"), FORM)
    assert response.status_code == status
    assert ReportSubscription.objects.across_organizations().exists() == (status == 302)


def test_create_schedules_in_org_timezone_and_sets_recipients(alice, env_a):
    client_for(alice).post(url("subscription-create"), FORM)
    sub = ReportSubscription.objects.across_organizations().get()
    assert sub.addresses == ["a@example.com", "b@example.com"]
    assert sub.language == "pt-br" and sub.created_by == alice
    local = sub.next_run_at.astimezone(sub.tzinfo)
    assert (local.weekday(), local.hour, local.minute) == (0, 8, 0)
    assert sub.tz_name == "America/Sao_Paulo"


def test_bad_input_gets_400_with_messages_and_saves_nothing(alice, env_a):
    bad = {**FORM, "hour": "24", "addresses": "ok@example.com, not-an-address",
           "all_environments": "", "timezone": "Mars/Olympus"}
    response = client_for(alice).post(url("subscription-create"), bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert "not-an-address" in body
    assert "Choose at least one environment" in body
    assert "Mars/Olympus" in body or "valid choice" in body
    assert not ReportSubscription.objects.across_organizations().exists()


def test_other_orgs_environments_cannot_be_chosen(alice, env_a, env_b):
    form = {**FORM, "all_environments": "", "environments": [str(env_b.pk)]}
    assert client_for(alice).post(url("subscription-create"), form).status_code == 400


@pytest.mark.parametrize(("who", "status"), [("alice", 302), ("bob", 403), ("carol", 404)])
def test_edit_needs_admin_and_reschedules(cast, sub, who, status):
    form = {**FORM, "hour": "17", "cadence": "daily"}
    response = client_for(cast[who]).post(url("subscription-edit", sub), form)
    assert response.status_code == status
    sub.refresh_from_db()
    if status == 302:
        assert sub.next_run_at.astimezone(sub.tzinfo).hour == 17
    else:
        assert sub.hour == 8 and sub.next_run_at == RUN


@pytest.mark.parametrize(("who", "status"), [("alice", 302), ("bob", 403), ("carol", 404)])
def test_delete_needs_admin(cast, sub, who, status):
    assert client_for(cast[who]).post(url("subscription-delete", sub)).status_code == status
    kept = ReportSubscription.objects.across_organizations().filter(pk=sub.pk).exists()
    assert kept == (status != 302)


@pytest.mark.parametrize(("who", "status"), [("alice", 302), ("bob", 403), ("carol", 404)])
def test_send_test_now(cast, sub, who, status):
    client = client_for(cast[who])
    response = client.post(url("subscription-send-test", sub))
    assert response.status_code == status
    if status == 302:
        assert [m.to for m in mail.outbox] == [["alice@example.com"]]
        assert mail.outbox[0].subject.startswith("[Test]")
        delivery = sub.deliveries.get()
        assert delivery.is_test and delivery.status == DeliveryStatus.SENT
        sub.refresh_from_db()
        assert sub.next_run_at == RUN  # the schedule is untouched
        page = client.get(url("subscription-detail", sub)).content.decode()
        assert "Test sent to alice@example.com" in page
    else:
        assert mail.outbox == []


@pytest.mark.parametrize(("who", "status"), [("alice", 302), ("bob", 302), ("carol", 404)])
def test_members_subscribe_and_unsubscribe_themselves(cast, sub, who, status):
    user = cast[who]
    client = client_for(user)
    assert client.post(url("subscription-self", sub), {"action": "subscribe"}).status_code == status
    assert sub.members.filter(pk=user.pk).exists() == (status == 302)
    if status == 302:
        client.post(url("subscription-self", sub), {"action": "unsubscribe"})
        assert not sub.members.filter(pk=user.pk).exists()
        response = client.post(url("subscription-self", sub), {"action": "explode"})
        assert response.status_code == 400 and b"subscribe" in response.content


def test_failed_delivery_and_its_error_show_on_the_subscription_page(bob, sub):
    ReportDelivery.objects.create(
        subscription=sub, period_start=RUN.date(), period_end=RUN.date(),
        status=DeliveryStatus.FAILED, attempts=4,
        error="Gave up after 4 attempts. ops@example.com: (554, b'Relay denied')",
        recipients={"ops@example.com": {"status": "failed", "error": "554 Relay denied"}},
    )
    listing = client_for(bob).get(url("subscription-list")).content.decode()
    assert "Failed" in listing and "Relay denied" in listing
    detail = client_for(bob).get(url("subscription-detail", sub)).content.decode()
    assert "Gave up after 4 attempts" in detail and "ops@example.com: Failed" in detail


def test_one_click_unsubscribe_without_login(sub, alice):
    link = reverse("subscription-unsubscribe", args=[make_token(sub.pk, "ops@example.com")])
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(link)
    assert page.status_code == 200 and b"ops@example.com" in page.content
    sub.refresh_from_db()
    assert sub.addresses == ["ops@example.com"]  # a GET (link scanner) changes nothing
    # RFC 8058 one-click: the mail client POSTs, without cookies or CSRF token.
    done = anonymous.post(link, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    sub.refresh_from_db()
    assert sub.addresses == []
    assert sub.recipient_emails() == ["alice@example.com"]
    member = reverse("subscription-unsubscribe", args=[make_token(sub.pk, "alice@example.com")])
    anonymous.post(member)
    assert not sub.members.exists()


def test_unsubscribe_cannot_be_forged_for_another_recipient(sub):
    token = make_token(sub.pk, "ops@example.com")
    payload, rest = token.split(":", 1)
    forged_payload = make_token(sub.pk, "alice@example.com").split(":", 1)[0]
    for bad in (f"{forged_payload}:{rest}", token[:-2] + "xx", "garbage"):
        response = Client().post(reverse("subscription-unsubscribe", args=[bad]))
        assert response.status_code == 404
    sub.refresh_from_db()
    assert sub.addresses == ["ops@example.com"] and sub.members.count() == 1


def test_admin_lists_actions_and_scoping(sub, django_user_model, carol):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456!")
    admin = client_for(root)
    failed = ReportDelivery.objects.create(
        subscription=sub, period_start=RUN.date(), period_end=RUN.date(),
        status=DeliveryStatus.FAILED, attempts=4, error="Gave up: 554 Relay denied",
        recipients={"ops@example.com": {"status": "failed"},
                    "alice@example.com": {"status": "sent"}},
    )
    page = admin.get(reverse("admin:reports_reportdelivery_changelist") + "?status=failed")
    assert page.status_code == 200 and b"Relay denied" in page.content
    assert admin.get(reverse("admin:reports_reportsubscription_changelist")).status_code == 200
    change = reverse("admin:reports_reportsubscription_change", args=[sub.pk])
    assert admin.get(change).status_code == 200

    admin.post(reverse("admin:reports_reportdelivery_changelist"),
               {"action": "resend_failed", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]  # not alice again

    admin.post(reverse("admin:reports_reportsubscription_changelist"),
               {"action": "send_test_now", "_selected_action": [sub.pk]})
    assert mail.outbox[-1].to == ["root@example.com"]
    assert sub.deliveries.filter(is_test=True, status=DeliveryStatus.SENT).count() == 1

    carol.is_staff = True
    carol.save()
    scoped = client_for(carol).get(reverse("admin:reports_reportsubscription_changelist"))
    assert b"Weekly ops" not in scoped.content


def test_subscription_pages_look_like_the_rest_of_settings(alice, sub, env_a):
    """The organisation frame (environment chips, not "No environments yet."), the settings
    sub-navigation, a styled form and exactly one success message."""
    client = client_for(alice)
    for page in (url("subscription-list"), url("subscription-detail", sub),
                 url("subscription-create"), url("subscription-edit", sub),
                 url("subscription-delete", sub)):
        html = client.get(page).content.decode()
        assert "No environments yet." not in html, page
        assert f"{env_a.name}:" in html, page  # the environment chip of the frame
        assert 'class="subnav"' in html and 'aria-current="page">Report subscriptions' in html
    form = client.get(url("subscription-create")).content.decode()
    assert 'class="form card"' in form
    response = client.post(url("subscription-edit", sub), {**FORM, "name": "Renamed"},
                           follow=True)
    assert response.content.decode().count("Subscription saved.") == 1


def test_subscription_form_labels_in_portuguese(alice, sub):
    from django.conf import settings

    client = client_for(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    html = client.get(url("subscription-edit", sub)).content.decode()
    for label in ("Frequência", "Dia da semana", "Hora local (0–23)", "Fuso horário",
                  "Todos os ambientes", "Anexar um CSV", "Pular quando não houve chamadas"):
        assert label in html, label
    for english in (">Cadence<", ">Weekday<", ">Attach csv<", ">Skip if no calls<"):
        assert english not in html, english
