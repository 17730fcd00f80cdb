"""Doors from a report figure to the calls explorer, filtered to exactly the calls it counts.

A figure on the dashboard, agents or callbacks page is only trusted when one click shows the
rows behind it. Every such link is built here, from the report scope the figure was computed
with (its days, environments, agent, direction) narrowed to the figure (a day, an outcome, a
weekday and hour, one agent of one environment). The explorer reads them
with the one call filter (`reports.call_filter`), with the same meaning as the rollups:
organisation-local days and hours, test calls left out, "answered" = answered + completed.

The scope is duck-typed (`start`, `end`, `environments`, `agent_ids`, optional `direction`)
so this module does not depend on how the report scope is parsed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.urls import reverse

from portal.kept_urls import kept_reverse
from portal.tenancy.context import chosen_team
from reports import vocabulary
from reports.call_filter import CALLBACK_LABELS, NO_AGENT, OUTCOMES, RESOLUTION_LABELS
from reports.kpi_groups import JUDGEMENT_LABELS, KPI_LABELS

# A link to a call's page carries the call's start (`at`): on PostgreSQL calls are
# partitioned by month of their start (sync/partitions/ddl.py), so the page then reads one
# month's index instead of asking every month for the id (reports.pages.calls).
AT = "at"
# The team filter (`portal.tenancy.access.team_filter`): every door of a team's page keeps it.
TEAM = "team"


def at_param(call: Any) -> str:
    """The `at` value of a link to `call`'s page (its start, UTC, to the microsecond)."""
    return call.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Door:
    """A link into the explorer and the number of calls it will list (the figure's count)."""

    url: str
    calls: int


def explorer_params(scope: Any, *, start: date | None = None, end: date | None = None,
                    outcome: str | None = None, direction: str | None = None,
                    env_id: int | None = None, agent_id: str | None = None,
                    weekday: int | None = None, hour: int | None = None,
                    callback: str | None = None, utc: bool = False,
                    resolution: str | None = None, kpi: str | None = None,
                    judgement: str | None = None) -> list[tuple[str, str]]:
    """Explorer query parameters for the calls of `scope` narrowed to one figure.

    `weekday` is Monday = 0 (as in the report heatmap); the explorer takes ISO days (1-7).
    `callback`: a step of the callback funnel; `utc`: the days are UTC days (the funnel's
    and the vendor's); `resolution`: a group of the outcome report (resolved, repeat,
    pending...); `kpi`: the calls a KPI counts, `judgement`: the vendor's judgement
    (`reports.kpi_groups`). Names are the common ones (`reports.vocabulary`), as on every page.
    A request filtered by a team (`?team=`) keeps it: the explorer then lists that team's
    calls, the ones the figure counted.
    """
    _check_groups(outcome, callback, resolution, kpi, judgement)
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
    if resolution:
        params.append(("resolution", resolution))
    if judgement:
        params.append(("judgement", judgement))
    if kpi:
        params.append(("kpi", kpi))
    if weekday is not None:
        params.append(("weekday", str(weekday + 1)))
    if hour is not None:
        params.append(("hour", str(hour)))
    if callback:
        params.append(("callback", callback))
    if utc:
        params.append(("utc", "on"))
    if (team := chosen_team()) is not None:
        params.append((TEAM, str(team)))
    return params


def explorer_url(org_slug: str, params: list[tuple[str, str]]) -> str:
    return f"{reverse('calls', args=[org_slug])}?{urlencode(params)}"


class Drill:
    """One page's doors, built from one resolved base: the explorer's path is resolved and
    the scope's own parameters (period, environments, agent, direction) are encoded once,
    and each link adds only its narrowing. A dashboard holds 500 to 1,200 links; one
    `reverse()` + `urlencode()` each was two thirds of its time.

    `url(**narrow)` is exactly `explorer_url(slug, explorer_params(scope, **narrow))`, the
    rule's reference spelling (tests/reports/test_drill_links.py holds them equal).
    """

    def __init__(self, org_slug: str, scope: Any) -> None:
        self.scope = scope
        self._base = f"{kept_reverse('calls', (org_slug,))}?"
        self._period = (scope.start.isoformat(), scope.end.isoformat())
        self._environments = "&".join(f"{vocabulary.ENV}={e.pk}" for e in scope.environments)
        self._agent = (f"{vocabulary.AGENT}={quote_plus(scope.agent_ids[0])}"
                       if scope.agent_ids else "")
        self._direction = getattr(scope, "direction", None) or None
        team = chosen_team()
        self._team = f"&{TEAM}={int(team)}" if team is not None else ""
        self._quoted: dict[str, str] = {}
        self._urls: dict[tuple, str] = {}

    def _quote(self, value: str) -> str:
        quoted = self._quoted.get(value)
        if quoted is None:
            quoted = self._quoted[value] = quote_plus(value)
        return quoted

    def url(self, *, start: date | None = None, end: date | None = None,
            outcome: str | None = None, direction: str | None = None,
            env_id: int | None = None, agent_id: str | None = None,
            weekday: int | None = None, hour: int | None = None,
            callback: str | None = None, utc: bool = False,
            resolution: str | None = None, kpi: str | None = None,
            judgement: str | None = None) -> str:
        """The explorer URL of the scope narrowed to one figure (see `explorer_params`).

        Kept for the page (`_urls`): the dashboard's chart and its table open the same
        calls, so their doors are built once."""
        key = (start, end, outcome, direction, env_id, agent_id, weekday, hour, callback, utc,
               resolution, kpi, judgement)
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = self._url(*key)
        return url

    def _url(self, start: date | None, end: date | None, outcome: str | None,
             direction: str | None, env_id: int | None, agent_id: str | None,
             weekday: int | None, hour: int | None, callback: str | None, utc: bool,
             resolution: str | None, kpi: str | None, judgement: str | None) -> str:
        _check_groups(outcome, callback, resolution, kpi, judgement)
        first = start.isoformat() if start else self._period[0]
        last = end.isoformat() if end else self._period[1]
        parts = [f"{vocabulary.START}={first}&{vocabulary.END}={last}"]
        if env_id is not None:
            parts.append(f"{vocabulary.ENV}={int(env_id)}")
        elif self._environments:
            parts.append(self._environments)
        if agent_id is not None:
            parts.append(f"{vocabulary.AGENT}={self._quote(agent_id or NO_AGENT)}")
        elif self._agent:
            parts.append(self._agent)
        direction = direction or self._direction
        if direction:
            parts.append(f"direction={self._quote(direction)}")
        if outcome:
            parts.append(f"outcome={outcome}")
        if resolution:
            parts.append(f"resolution={resolution}")
        if judgement:
            parts.append(f"judgement={judgement}")
        if kpi:
            parts.append(f"kpi={kpi}")
        if weekday is not None:
            parts.append(f"weekday={int(weekday) + 1}")
        if hour is not None:
            parts.append(f"hour={int(hour)}")
        if callback:
            parts.append(f"callback={callback}")
        if utc:
            parts.append("utc=on")
        return self._base + "&".join(parts) + self._team

    def door(self, calls: int | None, **narrow: Any) -> Door:
        """The door of a figure that counts `calls` calls of the scope narrowed by `narrow`."""
        return Door(self.url(**narrow), int(calls or 0))


@dataclass(frozen=True)
class _Period:
    start: date
    end: date
    environments: list
    agent_ids: None = None
    direction: None = None


def callbacks_drill(org_slug: str, scope: Any) -> Drill:
    """The doors of callback figures: the scope's days and environments only (callback
    figures take no call filters); each door adds `callback=` and `utc=True`, the days
    being UTC days, as the vendor counts callbacks and the funnel follows it."""
    return Drill(org_slug, _Period(scope.start, scope.end, list(scope.environments)))


def outcome_count(figures: Any, outcome: str) -> int:
    """How many calls of a `CallTotals` fall in one outcome group."""
    return int(getattr(figures, outcome) or 0)


def series_doors(drill: Drill, series: list) -> dict[str, list[str | None]]:
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
        doors["total"].append(drill.url(start=point.start, end=point.end) if f.total else None)
        for outcome in OUTCOMES:
            n = outcome_count(f, outcome)
            doors[outcome].append(drill.url(start=point.start, end=point.end,
                                            outcome=outcome) if n else None)
    return doors


def _check_groups(outcome: str | None, callback: str | None, resolution: str | None,
                  kpi: str | None = None, judgement: str | None = None) -> None:
    """A drill names only groups the explorer knows (a typo would list every call)."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    if callback is not None and callback not in CALLBACK_LABELS:
        raise ValueError(f"unknown callback step {callback!r}")
    if resolution is not None and resolution not in RESOLUTION_LABELS:
        raise ValueError(f"unknown resolution {resolution!r}")
    if kpi is not None and kpi not in KPI_LABELS:
        raise ValueError(f"unknown KPI {kpi!r}")
    if judgement is not None and judgement not in JUDGEMENT_LABELS:
        raise ValueError(f"unknown judgement {judgement!r}")
