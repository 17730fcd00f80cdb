"""What makes a rule consistent, checked in one place for the settings form and the API."""
from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from reports.alerts.models import (
    ANOMALY_METRICS,
    CALLBACK_METRICS,
    CHANGE_CONDITIONS,
    DAILY_WINDOWS,
    HEALTH_METRICS,
    KPI_METRICS,
    Condition,
    Window,
)
from reports.alerts.webhook_url import check_webhook_url


def rule_errors(*, metric: str, window: str, condition: str, compare_to: str,
                threshold: float | None, agent_id: str, webhook_url: str) -> dict[str, str]:
    """Field name → message for every inconsistency (empty: the rule is sound)."""
    errors: dict[str, str] = {}
    if condition in CHANGE_CONDITIONS and not compare_to:
        errors["compare_to"] = _("A change condition needs compare_to: previous or week_ago.")
    if condition and condition not in CHANGE_CONDITIONS and compare_to:
        errors["compare_to"] = _("compare_to is only for the change conditions.")
    if metric in HEALTH_METRICS and condition in CHANGE_CONDITIONS:
        errors["condition"] = _("The health of the mirror is judged against a threshold: "
                                "choose above or below.")
    if condition == Condition.ANOMALY and metric and metric not in ANOMALY_METRICS:
        errors["metric"] = _("The anomaly condition judges calls and the answer, failed and "
                             "no-answer rates (the figures kept per hour).")
    elif condition == Condition.ANOMALY and window and window != Window.HOUR:
        errors["window"] = _("The anomaly condition judges hours: choose the window “1h”.")
    elif metric in CALLBACK_METRICS and window and window not in DAILY_WINDOWS:
        errors["window"] = _("Callback statistics are daily: choose the window “day” or “7d”.")
    elif metric in KPI_METRICS and window and window not in DAILY_WINDOWS:
        errors["window"] = _("The KPIs are read per day: choose the window “day” or “7d”.")
    if metric in CALLBACK_METRICS and agent_id:
        errors["agent_id"] = _("Callback statistics are per environment, not per agent.")
    if threshold is None and condition and condition != Condition.ANOMALY:
        errors["threshold"] = _("This condition compares with a threshold: give one.")
    if threshold is not None and not math.isfinite(threshold):
        errors["threshold"] = _("The threshold must be a finite number.")
    if webhook_url:
        try:
            check_webhook_url(webhook_url)
        except ValidationError as exc:
            errors["webhook_url"] = " ".join(exc.messages)
    return errors
