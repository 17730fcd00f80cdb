"""Send an event's notification once: claimed, then channel by channel, each step saved.

An event is claimed by moving `notify_status` from pending (or retrying) to "sending" with a
conditional UPDATE, so a second evaluator skips it. Each channel is saved "sending" before
its message leaves and "sent" after: after a crash in between, recovery marks it "unknown"
and never sends it again (at most once beats a duplicate page at 3 a.m.). Failed channels are
retried on the next passes, up to MAX_ATTEMPTS.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from portal.emails import AUTOMATIC, absolute_url, templated_email
from reports.alerts import actions, webhooks
from reports.alerts.explain import explanation
from reports.alerts.models import AlertEvent, NotifyStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STALE_AFTER = timedelta(minutes=10)
PENDING, SENDING, SENT, FAILED, UNKNOWN = "pending", "sending", "sent", "failed", "unknown"
WEBHOOK = "webhook"


def _events() -> QuerySet[AlertEvent]:
    """Every organisation's events: notifications are sent for them all (the named door)."""
    return AlertEvent.objects.across_organizations()


def rule_link(event: AlertEvent) -> str:
    return absolute_url(reverse("alerts-rule",
                                args=[event.rule.organization.slug, event.rule_id]))


def _context(event: AlertEvent) -> dict:
    """Call under the rule's language: the explanation is worded here."""
    rule = event.rule
    return {"event": event, "rule": rule, "org": rule.organization, "link": rule_link(event),
            "firing": event.state == "firing", "tz_name": rule.organization.timezone,
            "explanation": explanation(event.detail)}


def render_email(event: AlertEvent, recipient: str) -> EmailMultiAlternatives:
    with translation.override(event.rule.language):
        context = {**_context(event), "recipient": recipient,
                   "action_link": actions.action_url(event.rule_id, recipient)}
        return templated_email("emails/alert", context, [recipient], headers=AUTOMATIC)


def webhook_text(event: AlertEvent) -> str:
    """The subject line, then the anomaly's explanation when there is one (rule's language)."""
    with translation.override(event.rule.language):
        context = _context(event)
        text = " ".join(render_to_string("emails/alert_subject.txt", context).split())
        return f"{text}\n{context['explanation']}" if context["explanation"] else text


def claim(event_id: int, now: datetime) -> bool:
    """Move a pending or retrying event to "sending"; True for the one process that did."""
    return bool(_events().filter(pk=event_id).filter(
        Q(notify_status=NotifyStatus.PENDING) | Q(notify_status=NotifyStatus.RETRYING)
    ).update(notify_status=NotifyStatus.SENDING, claimed_at=now,
             attempts=F("attempts") + 1))


def _save(event: AlertEvent, *fields: str) -> None:
    event.claimed_at = timezone.now() if event.claimed_at is None else max(
        event.claimed_at, timezone.now())
    event.save(update_fields=["claimed_at", *fields])


def channels(event: AlertEvent) -> dict[str, dict]:
    rule = event.rule
    found = {f"email:{address}": {"status": PENDING} for address in rule.recipient_emails()}
    if rule.webhook_url:
        found[WEBHOOK] = {"status": PENDING}
    return found


def send(event: AlertEvent, now: datetime) -> str:
    """Send a claimed event ("sending"); returns its new notify_status."""
    if not event.recipients:
        event.recipients = channels(event)
    if not event.recipients:
        return _finish(event, NotifyStatus.NONE, "No channel.")
    connection = get_connection(fail_silently=False)
    try:
        for key, state in event.recipients.items():
            if state["status"] not in (PENDING, FAILED):
                continue
            state.update(status=SENDING, error="")
            _save(event, "recipients")
            try:
                if key == WEBHOOK:
                    webhooks.post(event.rule, event, webhook_text(event), rule_link(event))
                else:
                    message = render_email(event, key.split(":", 1)[1])
                    message.connection = connection
                    message.send()
            except (smtplib.SMTPException, OSError, webhooks.WebhookError) as exc:
                state.update(status=FAILED, error=str(exc)[:500])
                if key != WEBHOOK:
                    connection.close()
            else:
                state.update(status=SENT, at=timezone.now().isoformat())
            _save(event, "recipients")
    finally:
        connection.close()
    return _conclude(event, now)


def _finish(event: AlertEvent, status: str, error: str = "", **fields) -> str:
    event.notify_status, event.error = status, error[:2000]
    for name, value in fields.items():
        setattr(event, name, value)
    _save(event, "notify_status", "error", "recipients", *fields)
    return status


def _conclude(event: AlertEvent, now: datetime) -> str:
    states = event.recipients
    failed = [f"{k}: {s.get('error', '')}" for k, s in states.items() if s["status"] == FAILED]
    unknown = [k for k, s in states.items() if s["status"] == UNKNOWN]
    if not failed and not unknown:
        return _finish(event, NotifyStatus.SENT, notified_at=now)
    if failed and event.attempts < MAX_ATTEMPTS:
        return _finish(event, NotifyStatus.RETRYING,
                       f"Attempt {event.attempts} of {MAX_ATTEMPTS} failed: " + "; ".join(failed))
    parts = [f"Gave up: {'; '.join(failed)}"] if failed else []
    if unknown:
        parts.append("Interrupted while sending to " + ", ".join(unknown)
                     + "; not re-sent to avoid a duplicate.")
    return _finish(event, NotifyStatus.FAILED, " ".join(parts))


def recover_stale(now: datetime) -> int:
    """Events left "sending" by a worker that died: unconfirmed channels become unknown."""
    recovered = 0
    for event in _events().filter(notify_status=NotifyStatus.SENDING,
                                           claimed_at__lt=now - STALE_AFTER):
        if not _events().filter(pk=event.pk, notify_status=NotifyStatus.SENDING,
                                         claimed_at=event.claimed_at).update(claimed_at=now):
            continue  # another evaluator is recovering it
        recovered += 1
        for state in event.recipients.values():
            if state["status"] == SENDING:
                state.update(status=UNKNOWN, error="worker stopped before confirming")
        if any(s["status"] in (PENDING, FAILED) for s in event.recipients.values()) \
                or not event.recipients:
            _finish(event, NotifyStatus.RETRYING, "Interrupted; resuming.")
        else:
            _conclude(event, now)
    return recovered


def deliver_pending(now: datetime | None = None) -> dict[str, int]:
    """Recover interrupted sends, then claim and send every pending or retrying event."""
    now = now or timezone.now()
    recover_stale(now)
    counts: dict[str, int] = {}
    ready = _events().filter(
        notify_status__in=[NotifyStatus.PENDING, NotifyStatus.RETRYING]
    ).order_by("created_at", "pk").values_list("pk", flat=True)
    for event_id in list(ready):
        if not claim(event_id, now):
            continue
        event = _events().select_related("rule__organization").get(pk=event_id)
        try:
            status = send(event, now)
        except Exception:  # noqa: BLE001 - a template bug: keep it for a retry, go on
            log.exception("alert event %s could not be sent", event_id)
            status = _finish(event, NotifyStatus.RETRYING if event.attempts < MAX_ATTEMPTS
                             else NotifyStatus.FAILED, "internal error while sending")
        counts[status] = counts.get(status, 0) + 1
    return counts
