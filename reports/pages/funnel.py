"""The callback funnel as the callbacks page draws it: two funnels, each step a part of the
one before, each with the door to exactly its calls (`reports.drill.callbacks_drill`: UTC
days, `callback=` step) and its definition.

- Outbound: calls not answered → called back (a callback linked to them) → reached (that
  callback was answered).
- Callbacks: received → of an outbound call (matched) → answered; the unmatched callbacks
  are said beside, not as a step (they are the received that are not matched).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from reports.drill import Door, Drill
from reports.queries.callback_funnel import CallbackFunnel, answered_steps


@dataclass(frozen=True)
class Step:
    label: str
    count: int
    door: Door
    width: int  # percent of its funnel's first step, for the bar
    definition: str


@dataclass(frozen=True)
class Funnels:
    outbound: list[Step]
    callbacks: list[Step]
    unmatched: Step


def _steps(rows: list[tuple], drill: Drill) -> list[Step]:
    first = int(rows[0][1] or 0) or 1
    steps = []
    for label, n, step, outcome, definition in rows:
        n = int(n or 0)
        steps.append(Step(str(label), n, drill.door(n, callback=step, outcome=outcome, utc=True),
                          max(1, round(100 * n / first)) if n else 0, str(definition)))
    return steps


def funnel_steps(funnel: CallbackFunnel, drill: Drill, environments: list[Environment]
                 ) -> Funnels | None:
    """The two funnels; None when the calls of the period were not all mirrored (no
    figure)."""
    t = funnel.totals
    if not t.mirrored:
        return None
    last = answered_steps(funnel, environments)
    outbound = _steps([
        (_("Outbound calls not answered"), t.outbound_unanswered, "unanswered_outbound", None,
         _("Outbound calls that ended without being answered (no answer, busy, failed), by the "
           "day they were made.")),
        (_("Called back"), t.called_back, "called_back", None,
         _("Of those, the calls a callback came back to: the caller rang a callback agent "
           "within the match window.")),
        (_("Reached"), last.called_back_answered, "called_back_answered", None,
         _("Of those, the calls whose callback was answered.")),
    ], drill)
    callbacks = _steps([
        (_("Callbacks received"), t.received, "received", None,
         _("Calls to a callback agent, by the day they came in.")),
        (_("Of an outbound call"), t.matched, "matched", None,
         _("Of those, the callbacks that answer an outbound call of a source agent to the "
           "caller's number within the match window.")),
        (_("Answered"), last.matched_answered, "matched", "answered",
         _("Of those, the callbacks that were answered.")),
    ], drill)
    unmatched = _steps([(_("Unmatched callbacks"), t.unmatched, "unmatched", None,
                         _("Callbacks no outbound call explains."))], drill)[0]
    return Funnels(outbound, callbacks, unmatched)
