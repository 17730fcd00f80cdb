"""The coverage banner of a report page: days never mirrored, the open day, no comparison."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import Environment
from reports.coverage_notes import comparison_note, missing_notes, open_days_note


def coverage_context(environments: Sequence[Environment], calls: Any = None,
                     callbacks: Any = None) -> dict[str, Any]:
    """Template context for `reports/includes/coverage.html` from a calls and/or a callbacks
    summary (either may be None)."""
    names = {e.pk: e.name for e in environments}
    context: dict[str, Any] = {"calls_missing": [], "callbacks_missing": [],
                               "open_note": "", "comparison_note": ""}
    if calls is not None:
        context["calls_missing"] = missing_notes(calls.coverage, names)
        context["open_note"] = open_days_note(calls.comparison, calls.coverage.partial_days)
        context["comparison_note"] = comparison_note(calls.comparison)
    if callbacks is not None:
        context["callbacks_missing"] = missing_notes(callbacks.coverage, names)
    return context


def callbacks_not_reported(environments: Sequence[Environment]) -> str:
    """Whose callback statistics a scope lacks because its vendors report none, in the
    providers' own names (`portal.providers`): "Vapi does not report callback statistics."."""
    labels = sorted({e.spec.label for e in environments if not e.spec.callback_stats})
    if not labels:
        return ""
    return _("%(vendor)s does not report callback statistics.") % {
        "vendor": ", ".join(labels)}


def callback_vendor_words(environments: Sequence[Environment]) -> str:
    """What the vendor's callback figures are, named by their vendors: "Talkover's callback
    statistics" (the callbacks page's cards and columns, beside `LINKED_WORDS`)."""
    labels = sorted({e.spec.label for e in environments if e.spec.callback_stats})
    if not labels:
        return _("the vendor's callback statistics")
    return _("%(vendor)s's callback statistics") % {"vendor": ", ".join(labels)}


# What the callback funnel counts: the calls the mirror linked to one another.
LINKED_WORDS = gettext_lazy("the calls we linked")
