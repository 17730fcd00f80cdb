"""Claim due summaries exactly once, then send them.

Two steps, each guarded by a conditional UPDATE that only one process can win:

1. A due subscription is claimed by moving its `next_run_at` from the value we read to the
   next run (`UPDATE … WHERE id = %s AND next_run_at = <read value>`, as in healthchecks'
   sendreports); in the same transaction its `ReportDelivery` for the period is recorded,
   unique on (subscription, period start), so even a reset schedule cannot send a period twice.
2. A recorded delivery is claimed for sending by moving its status from pending / due retry
   to "sending" (`UPDATE … WHERE status IN …`), so a second dispatcher skips it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from portal.formatting import format_int
from reports.models import ReportDelivery, ReportSubscription
from reports.summaries.models import DeliveryStatus
from reports.summaries.schedule import next_run_for, period_for_run
from reports.summaries.send import deliver, recover_interrupted

log = logging.getLogger(__name__)

# A "sending" delivery idle this long lost its worker (sends save a heartbeat per recipient).
STALE_AFTER = timedelta(minutes=30)


def _subscriptions() -> QuerySet[ReportSubscription]:
    """Every organisation's subscriptions: the dispatcher serves them all (the named door)."""
    return ReportSubscription.objects.across_organizations()


def _deliveries() -> QuerySet[ReportDelivery]:
    """Every organisation's deliveries: the dispatcher claims them all (the named door)."""
    return ReportDelivery.objects.across_organizations()


@dataclass
class DispatchResult:
    """What one dispatcher pass did (or, with dry_run, would do)."""

    scheduled: int = 0
    claimed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    due: list[str] = field(default_factory=list)

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _schedule_new(now: datetime) -> int:
    """Give active subscriptions without a next run one (created by code that did not)."""
    scheduled = 0
    unscheduled = _subscriptions().filter(active=True, next_run_at__isnull=True)
    for sub in unscheduled.select_related("organization"):
        scheduled += _subscriptions().filter(
            pk=sub.pk, next_run_at__isnull=True
        ).update(next_run_at=next_run_for(sub, now))
    return scheduled


def claim_run(sub: ReportSubscription, now: datetime) -> ReportDelivery | None:
    """Claim `sub`'s due run and record its delivery; None if another process got it first.

    After an outage spanning several runs, one summary goes out, for the latest complete
    period (nobody wants three stale weekly emails at once).
    """
    run_at = latest = sub.next_run_at
    while (following := next_run_for(sub, latest)) <= now:
        latest = following
    period = period_for_run(sub.cadence, latest, sub.tzinfo)
    try:
        with transaction.atomic():
            moved = _subscriptions().filter(
                pk=sub.pk, active=True, next_run_at=run_at
            ).update(next_run_at=next_run_for(sub, max(now, run_at)))
            if not moved:
                return None
            return ReportDelivery.objects.create(
                subscription=sub, period_start=period.start, period_end=period.end,
                scheduled_for=latest,
            )
    except IntegrityError:
        # This period was already delivered (the schedule was edited or reset): the UPDATE
        # rolled back with it, so move the schedule on without sending.
        _subscriptions().filter(pk=sub.pk, next_run_at=run_at).update(
            next_run_at=next_run_for(sub, max(now, run_at))
        )
        return None


def claim_delivery(delivery_id: int, now: datetime) -> bool:
    """Move a pending or due-retry delivery to "sending"; True for the one process that did."""
    return bool(
        _deliveries().filter(pk=delivery_id)
        .filter(
            Q(status=DeliveryStatus.PENDING)
            | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
        )
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def _recover_stale(now: datetime) -> None:
    stale = _deliveries().filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_AFTER
    )
    for delivery in stale.select_related("subscription"):
        # Claim the recovery itself, so two dispatchers do not both resume it.
        if _deliveries().filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=delivery.claimed_at
        ).update(claimed_at=now):
            log.warning("summary delivery %s was interrupted; recovering", delivery.pk)
            recover_interrupted(delivery, now)


def send_claimed(delivery_id: int, now: datetime, summaries: dict | None = None) -> str | None:
    """Claim and send one delivery; None if another process holds it."""
    if not claim_delivery(delivery_id, now):
        return None
    delivery = _deliveries().select_related(
        "subscription__organization"
    ).get(pk=delivery_id)
    return deliver(delivery, now, summaries)


def dispatch(now: datetime | None = None, *, dry_run: bool = False) -> DispatchResult:
    """One pass: schedule, claim due runs, recover interrupted sends, send what is due."""
    now = now or timezone.now()
    result = DispatchResult()
    due = _subscriptions().filter(active=True, next_run_at__lte=now).select_related(
        "organization"
    ).order_by("next_run_at", "pk")
    if dry_run:
        for sub in due:
            period = period_for_run(sub.cadence, sub.next_run_at, sub.tzinfo)
            recipients = len(sub.recipient_emails())
            result.due.append(
                f"{sub.pk} {sub.organization.slug} {sub.name!r}: {period.start}..{period.end} "
                + ngettext("to %(n)s recipient", "to %(n)s recipients", recipients)
                % {"n": format_int(recipients)}
            )
        return result
    result.scheduled = _schedule_new(now)
    for sub in due:
        if claim_run(sub, now) is not None:
            result.claimed += 1
    _recover_stale(now)
    ready = _deliveries().filter(
        Q(status=DeliveryStatus.PENDING)
        | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
    ).order_by("created_at", "pk").values_list("pk", flat=True)
    summaries: dict = {}  # figures shared by this pass's deliveries (see `deliver`)
    for delivery_id in list(ready):
        status = send_claimed(delivery_id, now, summaries)
        if status is not None:
            result.count(status)
    return result
