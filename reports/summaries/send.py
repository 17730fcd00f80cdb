"""Send one claimed delivery, recipient by recipient, recording each step before the next.

A recipient is marked "sending" (and saved) before its message goes out and "sent" after, so
a worker that dies in between leaves a trace: recovery marks that recipient "unknown" and
never sends to it again automatically (at most once beats a duplicate in someone's inbox).
SMTP errors mark the recipient "failed"; the delivery retries them with backoff, then gives up.
"""
from __future__ import annotations

import logging
import smtplib
import time
from datetime import datetime, timedelta

from django.core.mail import get_connection
from django.utils import timezone

from reports.models import ReportDelivery
from reports.summaries.figures import build_summary
from reports.summaries.models import DeliveryStatus
from reports.summaries.recipients import (
    recipient_scopes,
    scope_key,
    summary_as,
    team_restriction,
)
from reports.summaries.render import build_message
from reports.summaries.schedule import Period

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
# Wait before attempt n+1 (after attempt n failed): 5 min, 20 min, 80 min.
BACKOFF_BASE = timedelta(minutes=5)
SEND_ERRORS = (smtplib.SMTPException, OSError)

PENDING, SENDING, SENT, FAILED, UNKNOWN, SKIPPED = (
    "pending", "sending", "sent", "failed", "unknown", "skipped")


def backoff(attempt: int) -> timedelta:
    """Delay after the `attempt`-th failed attempt (1-based)."""
    return BACKOFF_BASE * (4 ** (attempt - 1))


def _save(delivery: ReportDelivery, *fields: str) -> None:
    # claimed_at doubles as a heartbeat: only a delivery idle for long is considered crashed.
    # It advances from the dispatcher's `now` (which `--now` and tests may set) by real time.
    now, started = getattr(delivery, "_clock", (timezone.now(), time.monotonic()))
    delivery.claimed_at = now + timedelta(seconds=time.monotonic() - started)
    delivery.save(update_fields=["claimed_at", *fields])


def _finish(delivery: ReportDelivery, status: str, error: str = "", **fields) -> None:
    delivery.status, delivery.error = status, error[:2000]
    for name, value in fields.items():
        setattr(delivery, name, value)
    _save(delivery, "status", "error", "recipients", *fields)


def deliver(
    delivery: ReportDelivery, now: datetime | None = None, summaries: dict | None = None
) -> str:
    """Send a delivery this process has claimed (status "sending"); returns the new status.

    `summaries` caches figures within one dispatcher pass: subscriptions of one organisation
    over the same environments and period share them instead of re-querying.
    """
    now = now or timezone.now()
    delivery._clock = (now, time.monotonic())
    sub = delivery.subscription
    period = Period(delivery.period_start, delivery.period_end)
    if not delivery.recipients:
        delivery.recipients = {email: {"status": PENDING} for email in sub.recipient_emails()}
    if not delivery.recipients:
        _finish(delivery, DeliveryStatus.SKIPPED, "No recipients.")
        return delivery.status
    envs = sub.selected_environments()
    if not envs:
        _finish(delivery, DeliveryStatus.SKIPPED, "No environments selected.")
        return delivery.status
    summaries = {} if summaries is None else summaries
    scopes = recipient_scopes(sub)
    named = team_restriction(sub.team) if sub.team_id else None

    def summary_for(restriction):
        """The summary `restriction` may read, built once per scope in this pass."""
        key = (sub.organization_id, tuple(e.pk for e in envs), period, scope_key(restriction))
        if key not in summaries:
            summaries[key] = summary_as(restriction, sub.organization, envs, period, now,
                                        build=build_summary)
        return summaries[key]

    try:
        summary = summary_for(named)
    except Exception as exc:  # one broken summary must not stop the others; retried later
        log.exception("summary %s could not be built", delivery.pk)
        for state in delivery.recipients.values():
            if state["status"] == PENDING:
                state.update(status=FAILED, error=f"Could not build the summary: {exc}"[:500])
        return _conclude(delivery, now)
    if sub.skip_if_no_calls and not delivery.is_test and (
            summary is None or summary.calls.totals.total == 0):
        _finish(delivery, DeliveryStatus.SKIPPED, "No calls in the period.")
        return delivery.status
    def recipient_summary(email: str):
        """As the recipient; a test send's own addressee (an admin sending it to themselves)
        gets the subscription's named scope, as a plain address; a recipient no longer the
        subscription's (a member removed since the claim) gets nothing."""
        if email in scopes:
            return summary_for(scopes[email])
        return summary_for(named) if delivery.is_test else None

    _send_all(delivery, recipient_summary)
    return _conclude(delivery, now)


def _send_all(delivery: ReportDelivery, summary_for) -> None:
    """Each recipient their own summary (`reports.summaries.recipients`), rendered as them."""
    sub = delivery.subscription
    connection = get_connection(fail_silently=False)
    try:
        for email, state in delivery.recipients.items():
            if state["status"] not in (PENDING, FAILED):
                continue
            try:
                summary = summary_for(email)
                if summary is None:  # no longer a recipient, or nothing they may read
                    state.update(status=SKIPPED, error="Nothing this recipient may read.")
                    _save(delivery, "recipients")
                    continue
                message = build_message(sub, summary, email, is_test=delivery.is_test)
            except Exception as exc:  # a template bug: record it, retry later, go on
                log.exception("summary %s could not be rendered", delivery.pk)
                state.update(status=FAILED, error=f"Could not render: {exc}"[:500])
                _save(delivery, "recipients")
                continue
            state.update(status=SENDING, error="")
            _save(delivery, "recipients")
            try:
                message.connection = connection
                message.send()
            except SEND_ERRORS as exc:
                state.update(status=FAILED, error=str(exc)[:500])
                connection.close()  # a broken session must not poison the next recipient
            else:
                state.update(status=SENT, at=delivery.claimed_at.isoformat())
            _save(delivery, "recipients")
    finally:
        connection.close()


def _conclude(delivery: ReportDelivery, now: datetime) -> str:
    states = delivery.recipients.values()
    failed = [f"{e}: {s.get('error', '')}" for e, s in delivery.recipients.items()
              if s["status"] == FAILED]
    unknown = [e for e, s in delivery.recipients.items() if s["status"] == UNKNOWN]
    if not failed and not unknown:
        _finish(delivery, DeliveryStatus.SENT, sent_at=now, next_attempt_at=None)
    elif failed and delivery.attempts < MAX_ATTEMPTS:
        retry_at = now + backoff(delivery.attempts)
        _finish(delivery, DeliveryStatus.RETRYING,
                f"Attempt {delivery.attempts} of {MAX_ATTEMPTS} failed; next at "
                f"{retry_at:%Y-%m-%d %H:%M} UTC. " + "; ".join(failed),
                next_attempt_at=retry_at)
    else:
        parts = []
        if failed:
            parts.append(f"Gave up after {delivery.attempts} attempts. " + "; ".join(failed))
        if unknown:
            parts.append("Interrupted while sending to " + ", ".join(unknown)
                         + "; not re-sent automatically to avoid a duplicate.")
        sent_any = any(s["status"] == SENT for s in states)
        _finish(delivery, DeliveryStatus.FAILED, " ".join(parts),
                sent_at=now if sent_any else None, next_attempt_at=None)
    return delivery.status


def recover_interrupted(delivery: ReportDelivery, now: datetime) -> None:
    """A delivery whose worker died: unconfirmed recipients become "unknown", the rest go on."""
    delivery._clock = (now, time.monotonic())
    for state in delivery.recipients.values():
        if state["status"] == SENDING:
            state.update(status=UNKNOWN, error="worker stopped before confirming")
    if any(s["status"] in (PENDING, FAILED) for s in delivery.recipients.values()):
        _finish(delivery, DeliveryStatus.RETRYING, "Interrupted; resuming.", next_attempt_at=now)
    elif not delivery.recipients:
        _finish(delivery, DeliveryStatus.PENDING, "Interrupted before sending; resuming.")
    else:
        _conclude(delivery, now)
