"""Exactly once: claiming by conditional UPDATE, two dispatchers, crashes, SMTP retries."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

from reports.models import ReportDelivery, ReportSubscription
from reports.summaries.dispatch import claim_delivery, claim_run, dispatch
from reports.summaries.models import DeliveryStatus
from reports.summaries.send import MAX_ATTEMPTS
from tests.support.factories import make_subscription
from tests.support.summaries_support import Crash, CrashAfterSendBackend, free_port, race, smtp_sink

RUN = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Monday 08:00 in Sao Paulo
NEXT_RUN = RUN + timedelta(days=7)


@pytest.fixture
def sub(env_a, alice):
    return make_subscription(env_a.organization, members=[alice], addresses=["ops@example.com"],
                             next_run_at=RUN)


def test_due_summary_is_sent_once_and_schedule_moves_to_next_week(sub):
    result = dispatch(RUN + timedelta(minutes=2))
    assert result.claimed == 1 and result.statuses == {"sent": 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "ops@example.com"]
    sub.refresh_from_db()
    assert sub.next_run_at == NEXT_RUN
    delivery = sub.deliveries.get()
    assert (delivery.period_start, delivery.period_end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert delivery.status == DeliveryStatus.SENT
    assert {s["status"] for s in delivery.recipients.values()} == {"sent"}
    # Later ticks the same week send nothing.
    assert dispatch(RUN + timedelta(minutes=7)).claimed == 0
    assert len(mail.outbox) == 2


def test_nothing_is_sent_before_the_hour(sub):
    assert dispatch(RUN - timedelta(minutes=1)).claimed == 0
    assert mail.outbox == []


def test_after_an_outage_only_the_latest_period_is_sent(sub):
    result = dispatch(RUN + timedelta(days=15))  # two runs missed
    assert result.statuses == {"sent": 1}
    delivery = sub.deliveries.get()
    assert (delivery.period_start, delivery.period_end) == (date(2026, 11, 30), date(2026, 12, 6))
    sub.refresh_from_db()
    assert sub.next_run_at == RUN + timedelta(days=21)


def test_a_stale_read_cannot_claim_a_run_twice(sub):
    subs = ReportSubscription.objects.across_organizations()
    first, second = (subs.get(pk=sub.pk) for _ in range(2))
    assert claim_run(first, RUN) is not None
    assert claim_run(second, RUN) is None  # its next_run_at no longer matches
    assert ReportDelivery.objects.across_organizations().filter(subscription=sub).count() == 1
    delivery = ReportDelivery.objects.across_organizations().get(subscription=sub)
    assert claim_delivery(delivery.pk, RUN) is True
    assert claim_delivery(delivery.pk, RUN) is False


def test_a_reset_schedule_cannot_send_the_same_period_again(sub):
    dispatch(RUN)
    ReportSubscription.objects.across_organizations().filter(pk=sub.pk).update(
        next_run_at=RUN + timedelta(hours=2))
    result = dispatch(RUN + timedelta(hours=2))
    assert result.claimed == 0
    assert len(mail.outbox) == 2
    sub.refresh_from_db()
    assert sub.next_run_at == NEXT_RUN


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_send_each_summary_once(env_a, alice):
    subs = [make_subscription(env_a.organization, name=f"S{i}", members=[alice],
                              addresses=[f"r{i}@example.com"], next_run_at=RUN) for i in range(6)]
    with smtp_sink() as sink:
        errors = race(lambda: dispatch(RUN + timedelta(minutes=1)))
    assert errors == []
    assert len(sink.messages) == 12  # 6 summaries x 2 recipients, none twice
    assert len(sink.to("alice@example.com")) == 6
    assert all(len(sink.to(f"r{i}@example.com")) == 1 for i in range(6))
    sent = ReportDelivery.objects.across_organizations().filter(status=DeliveryStatus.SENT)
    assert sent.count() == len(subs)


def test_a_crash_between_send_and_save_never_sends_twice(sub):
    CrashAfterSendBackend.crashed = False
    backend = "tests.support.summaries_support.CrashAfterSendBackend"
    with override_settings(EMAIL_BACKEND=backend), pytest.raises(Crash):
        dispatch(RUN)
    assert [m.to[0] for m in mail.outbox] == ["alice@example.com"]
    delivery = sub.deliveries.get()
    assert delivery.status == DeliveryStatus.SENDING
    assert delivery.recipients["alice@example.com"]["status"] == "sending"

    # Until the delivery has been idle long enough it is left alone (its worker may be alive).
    dispatch(RUN + timedelta(minutes=10))
    assert len(mail.outbox) == 1
    # Then it is recovered: the unconfirmed recipient is not sent again, the others are.
    dispatch(RUN + timedelta(hours=1))
    dispatch(RUN + timedelta(hours=2))
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "ops@example.com"]
    delivery.refresh_from_db()
    assert delivery.recipients["alice@example.com"]["status"] == "unknown"
    assert delivery.recipients["ops@example.com"]["status"] == "sent"
    assert delivery.status == DeliveryStatus.FAILED
    assert "not re-sent automatically" in delivery.error


def test_smtp_failure_retries_with_backoff_then_succeeds(sub):
    with smtp_sink() as sink:
        sink.refuse = "451 4.3.0 Mailbox busy, try later"
        assert dispatch(RUN).statuses == {"retrying": 1}
        delivery = sub.deliveries.get()
        assert delivery.attempts == 1
        assert delivery.next_attempt_at == RUN + timedelta(minutes=5)
        assert "451" in delivery.error and "Mailbox busy" in delivery.error
        assert dispatch(RUN + timedelta(minutes=4)).statuses == {}  # not yet
        sink.refuse = None
        assert dispatch(RUN + timedelta(minutes=5)).statuses == {"sent": 1}
    assert len(sink.messages) == 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2


def test_smtp_failure_gives_up_after_max_attempts(sub):
    moment = RUN
    with smtp_sink() as sink:
        sink.refuse = "554 5.7.1 Relay denied"
        for _ in range(MAX_ATTEMPTS):
            dispatch(moment)
            moment += timedelta(days=1)
    delivery = sub.deliveries.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS
    assert "Gave up after 4 attempts" in delivery.error and "Relay denied" in delivery.error
    assert sink.messages == []


def test_unreachable_smtp_server_is_a_retry_not_a_crash(sub):
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           EMAIL_HOST="127.0.0.1", EMAIL_PORT=free_port(), EMAIL_TIMEOUT=2):
        assert dispatch(RUN).statuses == {"retrying": 1}
    assert "refused" in sub.deliveries.get().error.lower()


def test_skip_when_no_calls_and_when_no_recipients(env_a, alice):
    quiet = make_subscription(env_a.organization, members=[alice], skip_if_no_calls=True,
                              next_run_at=RUN)
    nobody = make_subscription(env_a.organization, name="Nobody", next_run_at=RUN)
    assert dispatch(RUN).statuses == {"skipped": 2}
    assert quiet.deliveries.get().error == "No calls in the period."
    assert nobody.deliveries.get().error == "No recipients."
    assert mail.outbox == []


def test_removed_member_gets_nothing(env_a, alice, bob, org_a):
    make_subscription(org_a, members=[alice, bob], next_run_at=RUN)
    bob.memberships.all().delete()
    dispatch(RUN)
    assert [m.to[0] for m in mail.outbox] == ["alice@example.com"]


def test_command_dry_run_lists_without_sending(sub, capsys):
    call_command("send_summaries", "--dry-run", "--now", "2026-11-23T11:05:00Z")
    out = capsys.readouterr().out
    assert "2026-11-16..2026-11-22" in out and "1 summary due;" in out and "(ies)" not in out
    assert mail.outbox == [] and not ReportDelivery.objects.across_organizations().exists()
    call_command("send_summaries", "--now", "2026-11-23T11:05:00+00:00")
    assert "sent: 1" in capsys.readouterr().out
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(("language", "one", "two"), [
    ("en", "to 1 recipient", "to 2 recipients"),
    ("pt-br", "para 1 destinatário", "para 2 destinatários")])
def test_the_dry_run_counts_recipients_in_words(sub, env_a, language, one, two):
    """One recipient is "1 recipient", never "1 recipient(s)", in either language."""
    make_subscription(env_a.organization, name="One reader", addresses=["one@example.com"],
                      next_run_at=RUN)
    with translation.override(language):
        due = dispatch(RUN + timedelta(minutes=5), dry_run=True).due
    assert sorted(line.rsplit(": ", 1)[1].split(" ", 1)[1] for line in due) == sorted(
        [one, two])
    assert not any("(s)" in line for line in due)


def test_command_rejects_a_bad_now(sub):
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("send_summaries", "--now", "next monday")


def test_celery_task_is_registered_and_dispatches(sub, settings):
    from portal.celery import app
    from reports.tasks import send_due_summaries

    assert "reports.send_due_summaries" in app.tasks
    entry = settings.CELERY_BEAT_SCHEDULE["send-due-summaries"]
    assert entry["task"] == "reports.send_due_summaries"
    ReportSubscription.objects.across_organizations().filter(pk=sub.pk).update(next_run_at=datetime.now(UTC))
    assert send_due_summaries.apply().get() == {"claimed": 1, "sent": 1}


def test_a_summary_that_cannot_be_built_is_retried_not_lost(sub, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("report query failed")

    monkeypatch.setattr("reports.summaries.send.build_summary", broken)
    assert dispatch(RUN).statuses == {"retrying": 1}
    assert "report query failed" in sub.deliveries.get().error
    monkeypatch.undo()
    assert dispatch(RUN + timedelta(minutes=5)).statuses == {"sent": 1}
    assert len(mail.outbox) == 2
