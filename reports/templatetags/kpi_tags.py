"""`{% kpi_card kpi %}`: one key-figure card of the dashboard (`reports.pages.cards.Kpi`).

Written in Python: the dashboard included `reports/includes/kpi.html` once per card (seven),
each include with nine `if`s, a `blocktranslate` and seven filters through the template
engine: about 2 ms of a cold dashboard's template time. The same bytes as that
template, which is kept as the reference: tests/reports/test_kpi_cards.py renders both over
every kind, sign, note and door, in both languages.
"""
from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.durations import format_duration
from portal.form_renderer import template_text
from portal.formatting import (
    EMPTY,
    format_change_pct,
    format_int,
    format_money,
    format_percent,
    format_points_change,
)

register = template.Library()


def _value(kpi: Any) -> str:
    """The figure as the card shows it: a rate, a duration, money or a count; "–" for none."""
    if kpi.value is None:
        return EMPTY
    if kpi.kind == "rate":
        return template_text(format_percent(kpi.value))
    if kpi.kind == "seconds":
        return template_text(format_duration(kpi.value))
    if kpi.kind in ("money", "money_per_call"):  # in its currency
        return template_text(format_money(kpi.value, kpi.currency,
                                          per_call=kpi.kind == "money_per_call"))
    return template_text(format_int(kpi.value))


def _change(kpi: Any) -> str:
    """The change against the previous period: points for a rate, percent otherwise."""
    change = kpi.delta.change
    if kpi.kind == "rate":
        sign = "▲ " if change > 0 else "▼ " if change < 0 else ""
        return f"{sign}{template_text(format_points_change(change))}\n      "
    pct = kpi.delta.change_pct
    if pct is not None:
        sign = "▲ " if pct > 0 else "▼ " if pct < 0 else ""
        return f"{sign}{template_text(format_change_pct(pct))}\n      "
    return template_text(_("new"))


def _delta(kpi: Any) -> str:
    if kpi.delta and kpi.delta.change is not None:
        return (f'\n    <div class="delta {template_text(kpi.trend)}">\n      {_change(kpi)}\n'
                f'      <span class="sr-only">{template_text(_("vs previous period"))}</span>'
                f'<span aria-hidden="true"> {template_text(_("vs prev."))}</span>\n    </div>\n  ')
    if kpi.note:
        return f'<div class="delta flat">{template_text(capfirst(kpi.note))}</div>\n  '
    return ""


@register.simple_tag
def kpi_card(kpi: Any) -> str:
    door = kpi.door
    linked = bool(door and door.calls)
    opening = closing = ""
    if linked:
        title = ngettext("Open the %(shown)s call behind this figure",
                         "Open the %(shown)s calls behind this figure",
                         door.calls) % {"shown": template_text(format_int(door.calls))}
        opening = (f'<a class="drill" href="{template_text(door.url)}" '
                   f'data-calls="{template_text(door.calls)}" title="{title}">')
        closing = "</a>"
    why_not = f'<p class="note">{template_text(kpi.why_not)}</p>' if kpi.why_not else ""
    return SafeString(
        f'\n<div class="kpi">\n  <div class="label">{template_text(kpi.label)}</div>\n'
        f'  <div class="value">{opening}{_value(kpi)}{closing}</div>\n  {_delta(kpi)}\n'
        f"  {why_not}\n</div>\n")
