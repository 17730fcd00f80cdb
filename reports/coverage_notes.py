"""What a report says about its coverage, in words: shared by the portal pages and the emails.

A figure over days the mirror has not read is shown with a notice naming them (per
environment, as day ranges), and a missing comparison says why instead of showing a
percentage. The words are built here once so a page and an email never disagree.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from reports.queries.common import Comparison, NoComparison
from sync.coverage import Coverage


@dataclass(frozen=True)
class MissingNote:
    """One environment's never-mirrored days, as readable ranges; `reason` says why when
    it is not that they were never read (days dropped by the organisation's retention)."""

    environment: str
    ranges: str
    days: int
    reason: str = ""


def day_ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def format_ranges(days: Sequence[date]) -> str:
    def one(first: date, last: date) -> str:
        a = date_format(first, "SHORT_DATE_FORMAT")
        return a if first == last else f"{a} – {date_format(last, 'SHORT_DATE_FORMAT')}"

    return ", ".join(one(a, b) for a, b in day_ranges(days))


def missing_notes(coverage: Coverage, names: dict[int, str]) -> list[MissingNote]:
    """One note per environment with days never mirrored in the range, and one more for its
    days dropped by retention (named as such: they were mirrored, then deleted)."""
    notes = []
    for env_id, days in sorted(coverage.missing_by_environment.items()):
        name = names.get(env_id, str(env_id))
        dropped = set(coverage.dropped_by_environment.get(env_id, ()))
        unread = [d for d in days if d not in dropped]
        if unread:
            notes.append(MissingNote(name, format_ranges(unread), len(unread)))
        if dropped:
            notes.append(MissingNote(name, format_ranges(sorted(dropped)), len(dropped),
                                     _("dropped by the organisation's call retention")))
    return notes


def comparison_note(comparison: Comparison) -> str:
    """Why there is no comparison ('' when there is one)."""
    if comparison.available:
        return ""
    if comparison.reason == NoComparison.ONLY_OPEN_DAYS:
        return _("no comparison: the period holds only days still being mirrored")
    if comparison.history_start is not None:
        return _("no comparison: history starts on %(day)s") % {
            "day": date_format(comparison.history_start, "SHORT_DATE_FORMAT")}
    return _("no comparison: the previous period is not fully mirrored")


def open_days_note(comparison: Comparison, partial_days: Iterable[date]) -> str:
    """The rule for the open day: shown as partial, left out of comparisons on both sides."""
    days = sorted(partial_days)
    if not days:
        return ""
    text = _("%(days)s is still being mirrored: its figures are partial.") % {
        "days": format_ranges(days)}
    if comparison.available and comparison.excluded_days:
        text += " " + _("Comparisons leave it out, and the same number of days of the "
                        "previous period.")
    return text


def same_days_note(comparison: Comparison) -> str:
    """What a change compares when the period's open days are left out of it: "over the same
    6 days" (the period's figure holds more days than the change compares); "" when the
    change covers the whole period, or there is none."""
    if not comparison.available or not comparison.excluded_days:
        return ""
    days = (comparison.current_end - comparison.current_start).days + 1
    return ngettext("over the same %(n)s day", "over the same %(n)s days", days) % {"n": days}


def compared_spans(comparison: Comparison) -> str:
    """The days a comparison sets side by side: "Compared with 11/13/2026 – 11/19/2026", or,
    when open days are left out, "Compared day for day: 11/20/2026 – 11/25/2026 with
    11/13/2026 – 11/18/2026"; "" without a comparison."""
    if not comparison.available:
        return ""

    def span(first: date, last: date) -> str:
        a = date_format(first, "SHORT_DATE_FORMAT")
        return a if first == last else f"{a} – {date_format(last, 'SHORT_DATE_FORMAT')}"

    previous = span(comparison.previous_start, comparison.previous_end)
    if not comparison.excluded_days:
        return _("Compared with %(previous)s") % {"previous": previous}
    return _("Compared day for day: %(current)s with %(previous)s") % {
        "current": span(comparison.current_start, comparison.current_end),
        "previous": previous}


def callbacks_not_reported(environments: Sequence[Any]) -> str:
    """Whose callback statistics a scope lacks because its vendors report none, in the
    providers' own names (`portal.providers`): "Vapi does not report callback statistics."."""
    labels = sorted({e.spec.label for e in environments if not e.spec.callback_stats})
    if not labels:
        return ""
    return _("%(vendor)s does not report callback statistics.") % {
        "vendor": ", ".join(labels)}


def callback_vendor_words(environments: Sequence[Any]) -> str:
    """What the vendor's callback figures are, named by their vendors: "Talkover's callback
    statistics" (the callbacks page's cards and columns, beside `LINKED_WORDS`)."""
    labels = sorted({e.spec.label for e in environments if e.spec.callback_stats})
    if not labels:
        return _("the vendor's callback statistics")
    return _("%(vendor)s's callback statistics") % {"vendor": ", ".join(labels)}


# What the callback funnel counts: the calls the mirror linked to one another.
LINKED_WORDS = gettext_lazy("the calls we linked")


def callbacks_differ_words(environments: Sequence[Any]) -> str:
    """The funnel's figures against the vendor's, named as the callbacks page names them:
    "The calls we linked and Talkover's callback statistics differ on"."""
    return _("%(linked)s and %(vendor)s differ on") % {
        "linked": str(LINKED_WORDS), "vendor": callback_vendor_words(environments)}
