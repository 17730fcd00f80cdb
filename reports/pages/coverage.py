"""The coverage banner of a report page: days never mirrored, the open day, no comparison."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
