"""The view follows you: period, environments, agent and direction carried between pages.

Report pages name their filters `range`/`start`/`end`/`env`/`agent`; the calls explorer
uses the Talkover names it shares with the API (`date_from`/`date_to`/`environment`/
`agent_id`). The navigation's links translate the current page's filters into the target's
dialect, so moving from the dashboard to Calls (or back) keeps what the user chose. A
rolling preset (`range=30d`) stays rolling: the explorer resolves it to dates itself.
"""
from __future__ import annotations

from datetime import date, timedelta

from django.http import QueryDict

from reports.drill import NO_AGENT

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
    preset = params.get("range", "")
    start = params.get("start", "")
    end = params.get("end", "")
    first, last = params.get("date_from", ""), params.get("date_to", "")
    envs = params.getlist("env") or params.getlist("environment")
    agent = params.get("agent") or params.get("agent_id") or ""
    direction = params.get("direction", "")
    if target == EXPLORER:
        if preset in ROLLING or preset in ("this_month", "last_month"):
            out["range"] = preset
        elif start:
            out["date_from"], out["date_to"] = start, end
        elif first or last:
            out["date_from"], out["date_to"] = first, last
        out.setlist("environment", envs)
        if agent:
            out["agent_id"] = agent
    else:
        if preset:
            out["range"] = preset
            if preset == "custom":
                out["start"], out["end"] = start, end
        elif first:
            rolling = _preset_of(first, last, today)
            if rolling:
                out["range"] = rolling
            else:
                out["range"], out["start"], out["end"] = "custom", first, last
        # Quality covers Origins AI environments and agents only: it keeps the period alone.
        if target != "quality":
            out.setlist("env", envs)
        if agent and agent != NO_AGENT and target != "quality":
            out["agent"] = agent
    if direction:
        out["direction"] = direction
    encoded = out.urlencode()
    return f"?{encoded}" if encoded else ""
