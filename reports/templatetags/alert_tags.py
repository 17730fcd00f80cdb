"""A rule's state and last evaluation, shown alike wherever the rule shows (list, detail,
the email's action page, the banner): never "OK" before a first evaluation, and
acknowledged / snoozed always said."""
from __future__ import annotations

from django import template
from django.utils import timezone

from reports.alerts.explain import explanation
from reports.alerts.models import AlertRule
from reports.alerts.wording import describe

register = template.Library()


@register.inclusion_tag("reports/alerts/state.html")
def alert_state(rule: AlertRule) -> dict:
    now = timezone.now()
    return {"rule": rule, "evaluated": rule.last_evaluated_at is not None,
            "acknowledged": rule.state == "firing" and rule.acknowledged_at is not None,
            "snoozed": rule.is_snoozed(now)}


@register.filter
def alert_reading(rule: AlertRule) -> str:
    """The last evaluation in the reader's language ("" before the first)."""
    return describe(rule)


@register.filter
def anomaly_explanation(detail: dict) -> str:
    """An anomaly event's sentence in the reader's language ("" for other events)."""
    return explanation(detail or {})
