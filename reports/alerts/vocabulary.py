"""Each metric's name in a sentence and its unit, and a figure written as every face writes it.

Shared by the words of a rule's last evaluation (`reports.alerts.wording`) and of an anomaly
verdict (`reports.alerts.explain`), so both say "Answer rate 70.4%" alike.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _lazy

from portal.formatting import EMPTY, format_number
from reports.alerts.models import Metric

# A cost's unit (the outcome report's costs: the vendors' and the price snapshots' USD).
MONEY = "\u00a0USD"
# Each metric's name in a sentence and its unit: a rate as the dashboard writes it ("64.6%",
# `portal.formatting`), other units after a no-break space ("12 min" never wraps).
NAMES = {
    Metric.CALLS: (_lazy("Calls"), ""),
    Metric.ANSWER_RATE: (_lazy("Answer rate"), "%"),
    Metric.FAILED_RATE: (_lazy("Failed rate"), "%"),
    Metric.NO_ANSWER_RATE: (_lazy("No-answer rate"), "%"),
    Metric.AVG_TALK_TIME: (_lazy("Average talk time"), "\u00a0s"),
    Metric.CALLBACKS_UNMATCHED_RATE: (_lazy("Unmatched callbacks"), "%"),
    Metric.CALLBACKS_ANSWERED_RATE: (_lazy("Answered callbacks"), "%"),
    Metric.CALLBACK_RATE: (_lazy("Callback rate"), "%"),
    Metric.MEDIAN_TIME_TO_CALLBACK: (_lazy("Median time to callback"), "\u00a0min"),
    Metric.COST: (_lazy("Cost"), MONEY),
    Metric.COST_PER_RESOLVED: (_lazy("Cost per resolved call"), MONEY),
    Metric.REPEAT_CONTACT_RATE: (_lazy("Repeat-contact rate"), "%"),
    Metric.MINUTES_SINCE_SYNC: (_lazy("Minutes since the last sync"), "\u00a0min"),
    Metric.TOKEN_REJECTED: (_lazy("Environments whose token was rejected"), ""),
}


def number(value: float | int | None, unit: str = "") -> str:
    """One decimal at most (a cost: two, four under one), rounded and written as on every
    face (`portal.formatting`: "64,6 %" in Portuguese, "1,234" counts)."""
    if value is None:
        return EMPTY
    places = 0 if float(value).is_integer() else 1
    if unit == MONEY and places:  # a cost per call is often a fraction of a cent
        places = 2 if abs(value) >= 1 else 4
    return format_number(value, places) + unit
