"""Acknowledge and snooze a rule: one helper for the portal's buttons and the email's links.

The links in an alert email are signed (rule, recipient) and valid for `LINK_MAX_AGE`, so an
on-call person can silence a rule from their phone without signing in. Opening a link only
shows the choice (mail scanners follow links); the POST acts, like the one-click unsubscribe.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from reports.alerts.models import AlertEvent, AlertRule, NotifyStatus
from reports.signed_links import Expired, SignedLink

SNOOZE_CHOICES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4),
                  "24h": timedelta(hours=24), "7d": timedelta(days=7)}
# What the snooze menus show for each period.
SNOOZE_LABELS = {"1h": _lazy("1 hour"), "4h": _lazy("4 hours"), "24h": _lazy("24 hours"),
                 "7d": _lazy("7 days")}
__all__ = ["SNOOZE_CHOICES", "SNOOZE_LABELS", "Expired", "action_url", "apply", "read_token"]
SALT = "reports.alerts.email-action"
LINK_MAX_AGE = timedelta(days=7)
LINK = SignedLink(SALT, LINK_MAX_AGE, "alerts-email-action")
# (rule id, email) in and out of a token; the link an alert email gives its recipient.
make_token, read_token, action_url = LINK.make_token, LINK.read_token, LINK.url


def apply(rule: AlertRule, action: str, snooze_for: str | None, now: datetime,
          user=None) -> str | None:
    """Apply `action` and save; the message to show, or None for an unknown action."""
    if action == "acknowledge":
        rule.acknowledged_at, rule.acknowledged_by = now, user
        message = _("Acknowledged.")
    elif action == "snooze" and snooze_for in SNOOZE_CHOICES:
        rule.snoozed_until = now + SNOOZE_CHOICES[snooze_for]
        message = _("Snoozed: no notifications until then.")
    elif action == "unsnooze":
        rule.snoozed_until = None
        message = _("Snooze ended.")
    else:
        return None
    rule.save(update_fields=["acknowledged_at", "acknowledged_by", "snoozed_until",
                             "updated_at"])
    if action in ("acknowledge", "snooze"):
        cancel_pending(rule, NotifyStatus.ACKNOWLEDGED if action == "acknowledge"
                       else NotifyStatus.SNOOZED)
    return message


def cancel_pending(rule: AlertRule, why: str) -> int:
    """The rule's notifications not yet being sent are not sent: someone already knows.

    Delivery claims an event by moving it from pending (or retrying) to "sending", so an
    event moved here first is never claimed; one already sending finishes."""
    return AlertEvent.objects.for_organization(rule.organization).filter(
        rule=rule, notify_status__in=[NotifyStatus.PENDING, NotifyStatus.RETRYING]
    ).update(notify_status=why)

