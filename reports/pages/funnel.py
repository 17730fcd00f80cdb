"""The callback funnel as the callbacks page draws it: its steps, each with the door to
exactly its calls (`reports.drill.callbacks_drill`: UTC days, `callback=` step)."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from reports.drill import Door, Drill
from reports.queries.callback_funnel import CallbackFunnel


@dataclass(frozen=True)
class Step:
    label: str
    count: int
    door: Door
    width: int  # percent of the funnel's widest step, for the bar


def funnel_steps(funnel: CallbackFunnel, drill: Drill) -> list[Step]:
    """Outbound not answered → called back; callbacks received → matched / unmatched →
    answered. None when the calls of the period were not all mirrored (no figure)."""
    t = funnel.totals
    if not t.mirrored:
        return []
    rows = [
        (_("Outbound calls not answered"), t.outbound_unanswered, "unanswered_outbound", None),
        (_("Called back"), t.called_back, "called_back", None),
        (_("Callbacks received"), t.received, "received", None),
        (_("Callbacks of an outbound call"), t.matched, "matched", None),
        (_("Unmatched callbacks"), t.unmatched, "unmatched", None),
        (_("Callbacks answered"), t.answered, "received", "answered"),
    ]
    widest = max((n or 0 for _label, n, _step, _outcome in rows), default=0) or 1
    steps = []
    for label, n, step, outcome in rows:
        n = int(n or 0)
        steps.append(Step(str(label), n, drill.door(n, callback=step, outcome=outcome, utc=True),
                          max(1, round(100 * n / widest)) if n else 0))
    return steps
