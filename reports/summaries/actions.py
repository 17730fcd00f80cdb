"""Human-triggered sends (settings page and admin): a test send, a deliberate re-send."""
from __future__ import annotations

from django.db.models import F, QuerySet
from django.utils import timezone

from reports.models import ReportDelivery, ReportSubscription
from reports.summaries.dispatch import send_claimed
from reports.summaries.models import DeliveryStatus
from reports.summaries.schedule import period_for_run
from reports.summaries.send import FAILED, PENDING, UNKNOWN


def _deliveries() -> QuerySet[ReportDelivery]:
    """Deliveries by id, whatever the organisation: the caller found them through a door."""
    return ReportDelivery.objects.across_organizations()


def send_test(sub: ReportSubscription, user, recipients: list[str] | None = None) -> ReportDelivery:
    """Send the latest complete period now to `recipients` (default: the requesting user).

    Test deliveries are outside the once-per-period rule and leave the schedule alone.
    """
    now = timezone.now()
    period = period_for_run(sub.cadence, now, sub.tzinfo)
    to = recipients if recipients is not None else [user.email.lower()]
    delivery = ReportDelivery.objects.create(
        subscription=sub, period_start=period.start, period_end=period.end, is_test=True,
        requested_by=user, scheduled_for=now,
        recipients={email: {"status": PENDING} for email in to if email},
    )
    send_claimed(delivery.pk, now)
    delivery.refresh_from_db()
    return delivery


def resend(delivery: ReportDelivery, now=None) -> bool:
    """Queue a failed delivery again for the recipients that did not get it (or are unknown).

    A person decides this (admin action), knowing an "unknown" recipient may get it twice.
    """
    now = now or timezone.now()
    if delivery.status != DeliveryStatus.FAILED:
        return False
    recipients = {
        email: ({"status": PENDING} if state["status"] in (FAILED, UNKNOWN) else state)
        for email, state in delivery.recipients.items()
    }
    return bool(
        _deliveries().filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, recipients=recipients, attempts=F("attempts") * 0,
            next_attempt_at=None, error="Re-send requested.",
        )
    )
