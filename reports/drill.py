"""Doors from a report figure to the calls explorer, filtered to exactly the calls it counts.

A figure on the dashboard, agents or callbacks page is only trusted when one click shows the
rows behind it. Every such link is built here, from the report scope the figure was computed
with (its days, environments, agent, direction) narrowed to the figure (a day, an outcome, a
weekday and hour, one agent of one environment). The explorer's filters (see
`reports.drill_filters`) read the same parameters with the same meaning as the rollups:
organisation-local days and hours, test calls left out, "answered" = answered + completed.

The scope is duck-typed (`start`, `end`, `environments`, `agent_ids`, optional `direction`)
so this module does not depend on how the report scope is parsed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from reports import vocabulary
from sync.models import CallStatus

# The report's status groups, as the explorer's `outcome` filter names them.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "answered": (CallStatus.ANSWERED, CallStatus.COMPLETED),
    "no_answer": (CallStatus.NO_ANSWER,),
    "busy": (CallStatus.BUSY,),
    "failed": (CallStatus.FAILED,),
    # Everything else (initiated, ringing, queued, values kept as sent): `other` in CallTotals.
    "other": (),
}
KNOWN_STATUSES = tuple(s for group in OUTCOMES.values() for s in group)
# Beside every callback figure: Talkover's callback statistics are counts per day.
CALLBACKS_WHY_NOT = _("Not linked to calls: Talkover reports callbacks as daily counts, "
                      "without saying which calls they are.")
# `agent_id` value of the calls that have no agent (an agent row with an empty id).
NO_AGENT = "-"


@dataclass(frozen=True)
class Door:
    """A link into the explorer and the number of calls it will list (the figure's count)."""

    url: str
    calls: int


def explorer_params(scope: Any, *, start: date | None = None, end: date | None = None,
                    outcome: str | None = None, direction: str | None = None,
                    env_id: int | None = None, agent_id: str | None = None,
                    weekday: int | None = None, hour: int | None = None) -> list[tuple[str, str]]:
    """Explorer query parameters for the calls of `scope` narrowed to one figure.

    `weekday` is Monday = 0 (as in the report heatmap); the explorer takes ISO days (1-7).
    Names are the common ones (`reports.vocabulary`), as on every report page.
    """
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    params: list[tuple[str, str]] = [
        (vocabulary.START, (start or scope.start).isoformat()),
        (vocabulary.END, (end or scope.end).isoformat()),
    ]
    env_ids = [env_id] if env_id is not None else [e.pk for e in scope.environments]
    params += [(vocabulary.ENV, str(pk)) for pk in env_ids]
    if agent_id is not None:
        params.append((vocabulary.AGENT, agent_id or NO_AGENT))
    elif scope.agent_ids:
        params.append((vocabulary.AGENT, scope.agent_ids[0]))
    direction = direction or getattr(scope, "direction", None) or None
    if direction:
        params.append(("direction", direction))
    if outcome:
        params.append(("outcome", outcome))
    if weekday is not None:
        params.append(("weekday", str(weekday + 1)))
    if hour is not None:
        params.append(("hour", str(hour)))
    return params


def explorer_url(org_slug: str, params: list[tuple[str, str]]) -> str:
    return f"{reverse('calls', args=[org_slug])}?{urlencode(params)}"


def door(org_slug: str, scope: Any, calls: int, **narrow: Any) -> Door:
    """The door of a figure that counts `calls` calls of `scope` narrowed by `narrow`."""
    return Door(explorer_url(org_slug, explorer_params(scope, **narrow)), int(calls or 0))


def outcome_count(figures: Any, outcome: str) -> int:
    """How many calls of a `CallTotals` fall in one outcome group."""
    return int(getattr(figures, outcome) or 0)


def series_doors(org_slug: str, scope: Any, series: list) -> dict[str, list[str | None]]:
    """Per outcome (and "total"), the URL of each series point; None where it counts nothing.

    The dashboard's chart opens them on click (one list per stacked dataset).
    """
    doors: dict[str, list[str | None]] = {"total": []}
    for outcome in OUTCOMES:
        doors[outcome] = []
    for point in series:
        f = point.figures
        if f is None:  # a day never mirrored: no figure, so nothing to open
            for key in doors:
                doors[key].append(None)
            continue
        doors["total"].append(door(org_slug, scope, f.total, start=point.start,
                                   end=point.end).url if f.total else None)
        for outcome in OUTCOMES:
            n = outcome_count(f, outcome)
            doors[outcome].append(door(org_slug, scope, n, start=point.start, end=point.end,
                                       outcome=outcome).url if n else None)
    return doors
