"""Formatting filters for summary emails: durations, rates, deltas that read without colour."""
from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from portal.durations import format_duration
from portal.formatting import (
    EMPTY,
    format_percent,
    format_percent_of,
    format_points_change,
)
from reports import cost_notes, coverage_notes

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as "45 s", "3 m 05 s" or "183 h 21 m", as in the portal."""
    return format_duration(seconds, empty=EMPTY)


@register.filter
def rate(value: float | None) -> str:
    """A 0–1 rate as a percentage with one decimal, as in the portal."""
    return format_percent(value)


def _sign(delta) -> int:
    if delta.change is None or delta.change == 0:
        return 0
    return 1 if delta.change > 0 else -1


@register.filter
def delta_text(delta, unit: str = "") -> str:
    """Arrow plus words: "▲ up 12.5%", "▼ down 3.0 pts" (unit="pp" for rates: percentage
    points, as the dashboard writes them), "= no change"."""
    if delta.change is None:
        return EMPTY
    sign = _sign(delta)
    if sign == 0:
        return "= " + _("no change")
    arrow, word = ("▲", _("up")) if sign > 0 else ("▼", _("down"))
    if unit == "pp":
        return f"{arrow} {word} {format_points_change(delta.change, signed=False)}"
    if delta.change_pct is None:
        return f"{arrow} {word}"
    return f"{arrow} {word} {format_percent_of(abs(delta.change_pct))}"


@register.filter
def same_days(comparison) -> str:
    """ " over the same 6 days" after a change that leaves the period's open days out
    (`reports.coverage_notes.same_days_note`); "" when it covers the whole period."""
    note = coverage_notes.same_days_note(comparison)
    return f" {note}" if note else ""


@register.filter
def cost(row, name: str = "cost") -> str:
    """A cost figure of an outcome row (`reports.queries.outcomes.OutcomeRow`) in its
    currency ("US$ 2,792.93"), "–" when none (`reports.cost_notes`)."""
    return cost_notes.money(row, name)


@register.filter
def cost_coverage(row) -> str:
    """How many of the row's calls its cost prices, and from what."""
    return cost_notes.coverage_note(row)


@register.filter
def priced_share(row) -> str:
    """How many of the row's calls its cost prices, short ("8,702 of 8,737 priced")."""
    return cost_notes.priced_share(row)


@register.filter
def settled_note(row) -> str:
    """What the row's cost per resolved call covers, or why it is not shown."""
    return cost_notes.settled_note(row)


@register.filter
def delta_colour(delta) -> str:
    """Green up, red down (always next to the arrow and words, never alone)."""
    return {1: "#1a7f37", -1: "#b42318"}.get(_sign(delta), "#555555")


@register.filter
def recipient_status(status: str) -> str:
    """One recipient's delivery state in the reader's language ("unknown": the process
    stopped while sending, so whether the message left is not known)."""
    from reports.summaries.models import DeliveryStatus

    if status == "unknown":
        return _("Unknown (interrupted while sending)")
    labels = dict(DeliveryStatus.choices)
    return str(labels.get(status, status))
