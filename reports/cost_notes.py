"""What a cost figure covers, in words: every face that shows a cost (the dashboard's cards,
the Outcomes page, the summary email) writes it with these, so a total never reads as more
than it is. The figures and their rules: `reports.queries.outcomes`."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.formatting import format_day, format_int, format_money


def money(row: Any, name: str = "cost") -> str:
    """A cost figure of an outcome row in its currency ("US$ 2,792.93"), per-call figures
    with up to four decimals under one cent; "–" when none."""
    value = getattr(row, name, None) if row is not None else None
    return format_money(value, getattr(row, "currency", None),
                        per_call=name.startswith("cost_per_"))


def coverage_note(row: Any) -> str:
    """How many of the row's calls its cost prices, and from what: "cost known for 8,702 of
    8,737 calls (vendor 4,240, estimate 4,462)", the calls priced with a price read after
    their day named apart; "no cost known for its 1,189 calls"."""
    if row is None or row.calls is None:
        return ""
    calls = row.calls
    priced = (row.vendor_costed or 0) + (row.estimated or 0)
    if not priced:
        return ngettext("no cost known for its %(calls)s call",
                        "no cost known for its %(calls)s calls", calls) % {
            "calls": format_int(calls)}
    parts = []
    if row.vendor_costed:
        parts.append(_("vendor %(n)s") % {"n": format_int(row.vendor_costed)})
    if row.estimated:
        parts.append(_("estimate %(n)s") % {"n": format_int(row.estimated)})
    text = ngettext("cost known for %(priced)s of %(calls)s call (%(sources)s)",
                    "cost known for %(priced)s of %(calls)s calls (%(sources)s)", calls) % {
        "priced": format_int(priced), "calls": format_int(calls), "sources": ", ".join(parts)}
    if row.estimated_early and row.earliest_price_on is not None:
        text += "; " + ngettext(
            "%(n)s estimated at the price read on %(day)s, the earliest",
            "%(n)s estimated at the price read on %(day)s, the earliest",
            row.estimated_early) % {"n": format_int(row.estimated_early),
                                    "day": format_day(row.earliest_price_on)}
    return text


def priced_share(row: Any) -> str:
    """How many of the row's calls its cost prices, short, for a table's cell."""
    if row is None or row.calls is None:
        return ""
    priced = (row.vendor_costed or 0) + (row.estimated or 0)
    return _("%(priced)s of %(calls)s priced") % {"priced": format_int(priced),
                                                  "calls": format_int(row.calls)}


def settled_note(row: Any, start: Any = None) -> str:
    """What the cost per resolved call covers: the settled span ("settled 11/01/2026 –
    11/20/2026"), or why it is not shown (nothing settled yet; the settled calls not all
    priced)."""
    if row is None or row.calls is None:
        return ""
    if not row.settled_calls:
        return _("pending: no call of the period is older than the resolution window yet")
    first = row.start or start
    span = (format_day(row.settled_through) if first is None or first == row.settled_through
            else f"{format_day(first)} – {format_day(row.settled_through)}")
    if row.cost_per_resolved is not None:
        return _("settled %(span)s") % {"span": span}
    if row.settled_costed != row.settled_calls:
        return _("not shown: cost known for %(priced)s of %(calls)s settled calls") % {
            "priced": format_int(row.settled_costed or 0),
            "calls": format_int(row.settled_calls)}
    return _("not shown: no resolved call settled %(span)s") % {"span": span}
