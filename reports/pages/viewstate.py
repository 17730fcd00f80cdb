"""The view follows you: period, environments, agent, direction and team carried between pages.

Report pages and the calls explorer share one vocabulary (`reports.vocabulary`:
`range`/`start`/`end`/`env`/`agent`; the explorer's old Talkover names are read as
aliases). The navigation's links keep what the user chose when moving between pages. A
rolling preset (`range=30d`) stays rolling: each page resolves it to dates itself; explicit
days that are exactly a rolling preset become it again on the report pages.
"""
from __future__ import annotations

from datetime import date, timedelta

from django.http import QueryDict

from reports.drill import NO_AGENT, TEAM
from reports.vocabulary import AGENT, END, ENV, RANGE, START, common_names

EXPLORER = "calls"
ROLLING = {"7d": 7, "30d": 30, "90d": 90}


def _preset_of(first: str, last: str, today: date | None) -> str | None:
    """The rolling preset whose days are exactly first..last, if any."""
    if today is None or last != today.isoformat():
        return None
    for preset, days in ROLLING.items():
        if first == (today - timedelta(days=days - 1)).isoformat():
            return preset
    return None


def carried_query(params: QueryDict, target: str, today: date | None = None) -> str:
    """"?…" for a link to `target` (url name) keeping the scope of the current `params`."""
    out = QueryDict(mutable=True)
    params = common_names(params)
    preset = params.get(RANGE, "")
    start, end = params.get(START, ""), params.get(END, "")
    envs = params.getlist(ENV)
    agent = params.get(AGENT) or ""
    direction = params.get("direction", "")
    if preset and preset != "custom":
        out[RANGE] = preset
    elif start or end:
        rolling = _preset_of(start, end, today) if target != EXPLORER else None
        if rolling:
            out[RANGE] = rolling
        else:
            out[RANGE], out[START], out[END] = "custom", start, end
    # Quality covers Origins AI environments and agents only: it keeps the period alone.
    if target != "quality":
        out.setlist(ENV, envs)
    if agent and target != "quality" and (target == EXPLORER or agent != NO_AGENT):
        out[AGENT] = agent
    if direction:
        out["direction"] = direction
    team = params.get(TEAM, "")
    if team.isdigit():  # the team filter: every page reads it (`portal.tenancy.access`)
        out[TEAM] = team
    encoded = out.urlencode()
    return f"?{encoded}" if encoded else ""
