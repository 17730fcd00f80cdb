"""A rule's state and last evaluation, shown alike wherever the rule shows (list, detail,
the email's action page, the banner): never "OK" before a first evaluation, and
acknowledged / snoozed always said."""
from __future__ import annotations

from django import template
from django.utils import timezone

from reports.alerts.explain import explanation
from reports.alerts.models import AlertRule
from reports.alerts.wording import coverage_words, describe, metric_figure, threshold_figure

register = template.Library()


@register.inclusion_tag("reports/alerts/state.html")
def alert_state(rule: AlertRule) -> dict:
    now = timezone.now()
    return {"rule": rule, "evaluated": rule.last_evaluated_at is not None,
            "acknowledged": rule.state == "firing" and rule.acknowledged_at is not None,
            "snoozed": rule.is_snoozed(now)}


@register.filter
def alert_reading(rule: AlertRule, zone: str | None = None) -> str:
    """The last evaluation in the reader's language ("" before the first); given the zone
    the page names once, its hour window in that zone."""
    return describe(rule, zone)


@register.filter
def anomaly_explanation(detail: dict) -> str:
    """An anomaly event's sentence in the reader's language ("" for other events)."""
    return explanation(detail or {})


@register.filter
def metric_value(value: float | None, metric: str) -> str:
    """A rule's figure as the dashboard writes it ("70.4 %", "1,234"), never "70.36"."""
    return metric_figure(metric, value)


@register.filter
def rule_threshold(threshold: float | None, rule: AlertRule) -> str:
    """A rule's threshold with its unit ("90 %", "a change of 15 %")."""
    return threshold_figure(rule, threshold)


@register.filter
def coverage_here(text: str, zone: str) -> str:
    """An event's coverage on a page that names its zone once: its time in it, unnamed."""
    return coverage_words(text, zone, named=False)


@register.filter
def coverage(text: str, zone: str) -> str:
    """An event's coverage in the reader's language and the organisation's zone."""
    return coverage_words(text, zone)
