"""Hostile records on demand: rewrite single records of what the simulator serves.

The data set itself stays a pure function of the seed; tampering edits the JSON of a
successful answer on its way out, so a test can serve one call whose `direction` is an
object, an agent whose name holds a NUL, a callback day whose count is "abc", then remove
the edit and watch the next sync converge. ``sim.tamper(env)`` returns the environment's
`Tampering`; ``sim.untamper(env)`` forgets it.

Fields of a patch overwrite the record's; the value `REMOVE` deletes the key.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

REMOVE = object()
Patch = dict[str, Any]


def _patched(item: Any, patch: Patch | None) -> Any:
    if patch is None or not isinstance(item, dict):
        return item
    out = dict(item)
    for key, value in patch.items():
        if value is REMOVE:
            out.pop(key, None)
        else:
            out[key] = value
    return out


@dataclass
class Tampering:
    """Edits of one environment's answers, by record.

    ``calls``: Talkover call id -> patch (in /calls and /agents/{id}/calls);
    ``agents``: agent id -> patch (in /agents, /agents/{id} and /callback-agents);
    ``callback_days``: "YYYY-MM-DD" -> patch of the stats ``data`` of a one-day request;
    ``origins``: Origins ``call_id`` -> patch (in call_stats);
    ``extra_items``: copies of the first item appended to every page of /calls, so a page
    holds more items than ``per_page`` asked for.
    """

    calls: dict[str, Patch] = field(default_factory=dict)
    agents: dict[str, Patch] = field(default_factory=dict)
    callback_days: dict[str, Patch] = field(default_factory=dict)
    origins: dict[str, Patch] = field(default_factory=dict)
    extra_items: int = 0

    def apply(self, route: str, query: dict[str, list[str]], body: bytes) -> bytes:
        """The answer's body with this environment's edits made (unchanged if none apply)."""
        if not (self.calls or self.agents or self.callback_days or self.origins
                or self.extra_items):
            return body
        doc = json.loads(body)
        if route == "call_stats" and isinstance(doc, list):
            doc = [_patched(r, self.origins.get(str(r.get("call_id")))) for r in doc]
        elif route in ("calls", "agent_calls"):
            items = [_patched(c, self.calls.get(str(c.get("id")))) for c in doc["data"]]
            if items and self.extra_items:
                items += [{**items[0], "id": f"{items[0]['id']}-extra-{i}"}
                          for i in range(self.extra_items)]
            doc["data"] = items
        elif route in ("agents", "callback_agents"):
            doc["data"] = [_patched(a, self.agents.get(str(a.get("id")))) for a in doc["data"]]
        elif route == "agent":
            doc["data"] = _patched(doc["data"], self.agents.get(str(doc["data"].get("id"))))
        elif route == "callback_stats":
            start, end = query.get("start_date", [""])[-1], query.get("end_date", [""])[-1]
            if start == end:
                doc["data"] = _patched(doc["data"], self.callback_days.get(start))
        return json.dumps(doc, separators=(",", ":")).encode()
