"""Key-figure cards (`{% kpi_card %}`): one card per declared metric (`reports.registry`),
its label, unit, value and change as every face has them, on the dashboard and the Outcomes
page alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from portal.formatting import format_int
from reports import cost_notes, registry
from reports.drill import Door, Drill
from reports.queries import Delta
from reports.queries.outcomes import OutcomeRow


@dataclass(frozen=True)
class Kpi:
    """One tile: its value, how to show it, and the change against the previous period."""

    label: str
    value: float | None
    kind: str  # count | rate | seconds | money (a total) | money_per_call
    delta: Delta | None
    higher_is_better: bool = True
    # Shown instead of a change when there is no like-for-like comparison.
    note: str = ""
    # The calls the figure counts (reports.drill), or why the mirror cannot list them.
    door: Door | None = None
    why_not: str = ""
    currency: str = "USD"  # of a money figure

    @property
    def trend(self) -> str:
        if self.delta is None or not self.delta.change:
            return "flat"
        good = (self.delta.change > 0) == self.higher_is_better
        return "up" if good else "down"


def card(name: str, totals: Any, deltas: dict | None = None, note: str = "",
         **shown: Any) -> Kpi:
    """The card of a declared metric (`reports.registry`): its label, unit, value over
    `totals` and change (from `deltas`, the report's) as every face has them; `shown`: its
    door (or why it has none) and currency."""
    m = registry.metric(name)
    delta = (deltas or {}).get(m.delta) if m.delta else None
    kind = "money_per_call" if name.startswith("cost_per_") else str(m.unit)
    return Kpi(str(m.label), m.value(totals), kind, delta, m.higher_is_better, note, **shown)


def figure_card(name: str, value: Any, note: str = "", **shown: Any) -> Kpi:
    """The card of a declared metric whose value another report's totals hold (the
    Outcomes page's calls and answered calls: the same counts as the calls report's)."""
    m = registry.metric(name)
    return Kpi(str(m.label), value, str(m.unit), None, m.higher_is_better, note, **shown)


def outcome_kpis(t: OutcomeRow, drill: Drill) -> list[Kpi]:
    """The cost and resolution cards: the outcome report's totals (the API's, the Outcomes
    page's), each opening the calls it counts (the explorer's `resolution` groups), each
    cost saying what it covers (`reports.cost_notes`)."""
    currency = t.currency or "USD"
    return [
        card("cost", t, note=cost_notes.coverage_note(t), door=drill.door(t.calls),
             currency=currency),
        card("cost_per_resolved", t, note=cost_notes.settled_note(t),
             door=drill.door(t.resolved, resolution="resolved"), currency=currency),
        card("repeat_contact_rate", t,
             note=_("of %(n)s settled answered calls") % {"n": format_int(t.settled)},
             door=drill.door(t.repeat_contacts, resolution="repeat")),
    ]
