"""Formatting filters for summary emails: durations, percentages, signed deltas."""
from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as `1h 02m` / `3m 05s` / `12s`."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@register.filter
def pct(value: float | None) -> str:
    if value is None:
        return "—"
    return number_format(value, 1) + "%"


@register.filter
def delta_text(delta) -> str:
    """Arrow plus words, so the change reads without colour: "▲ up 12.5%"."""
    if delta.change > 0:
        word = _("up")
    elif delta.change < 0:
        word = _("down")
    else:
        return "= " + _("no change")
    if delta.percent is None:
        return f"{delta.arrow} {word}"
    return f"{delta.arrow} {word} {number_format(abs(delta.percent), 1)}%"


@register.filter
def delta_colour(delta) -> str:
    return "#1a7f37" if delta.change > 0 else "#b42318" if delta.change < 0 else "#555555"
