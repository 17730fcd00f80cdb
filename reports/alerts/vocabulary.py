"""Each metric's name in a sentence and its unit, and a figure written as every face writes it.

Shared by the words of a rule's last evaluation (`reports.alerts.wording`) and of an anomaly
verdict (`reports.alerts.explain`), so both say "Answer rate 70.4%" alike.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _lazy

from portal.formatting import EMPTY, format_money, format_number, format_percent_of
from reports.alerts.models import Metric

# The units written by `portal.formatting`'s own functions, not after the figure: a cost (the
# outcome report's costs: the vendors' and the price snapshots' USD), a cost per call, a
# percentage (the alert's rates are in percent: 70.36).
MONEY, MONEY_PER_CALL, PERCENT = "money", "money per call", "%"
# Each metric's name in a sentence and its unit: money and rates as the dashboard writes them
# ("US$ 12.50", "64.6%"), other units after a no-break space ("12 min" never wraps).
NAMES = {
    Metric.CALLS: (_lazy("Calls"), ""),
    Metric.ANSWER_RATE: (_lazy("Answer rate"), PERCENT),
    Metric.FAILED_RATE: (_lazy("Failed rate"), PERCENT),
    Metric.NO_ANSWER_RATE: (_lazy("No-answer rate"), PERCENT),
    Metric.AVG_TALK_TIME: (_lazy("Average talk time"), "\u00a0s"),
    Metric.CALLBACKS_UNMATCHED_RATE: (_lazy("Unmatched callbacks"), PERCENT),
    Metric.CALLBACKS_ANSWERED_RATE: (_lazy("Answered callbacks"), PERCENT),
    Metric.CALLBACK_RATE: (_lazy("Callback rate"), PERCENT),
    Metric.MEDIAN_TIME_TO_CALLBACK: (_lazy("Median time to callback"), "\u00a0min"),
    Metric.COST: (_lazy("Cost"), MONEY),
    Metric.COST_PER_RESOLVED: (_lazy("Cost per resolved call"), MONEY_PER_CALL),
    Metric.REPEAT_CONTACT_RATE: (_lazy("Repeat-contact rate"), PERCENT),
    Metric.SUCCESS_RATE: (_lazy("Success rate"), PERCENT),
    Metric.TRANSFER_RATE: (_lazy("Transfer rate"), PERCENT),
    Metric.ABANDON_RATE: (_lazy("Abandon rate"), PERCENT),
    Metric.PEAK_CONCURRENCY: (_lazy("Peak concurrency"), ""),
    Metric.MINUTES_SINCE_SYNC: (_lazy("Minutes since the last sync"), "\u00a0min"),
    Metric.TOKEN_REJECTED: (_lazy("Environments whose token was rejected"), ""),
}


def number(value: float | int | None, unit: str = "") -> str:
    """A figure with its unit, rounded and written as on every face (`portal.formatting`:
    "64,6%" in Portuguese, "US$ 2,792.93", "1,234" counts); other figures with one decimal
    at most."""
    if value is None:
        return EMPTY
    if unit == PERCENT:
        return format_percent_of(value)
    if unit in (MONEY, MONEY_PER_CALL):
        return format_money(value, "USD", per_call=unit == MONEY_PER_CALL)
    return format_number(value, 0 if float(value).is_integer() else 1) + unit
