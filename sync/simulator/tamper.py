"""Hostile records on demand: rewrite single records of what the simulator serves.

The data set itself stays a pure function of the seed; tampering edits the JSON of a
successful answer on its way out, so a test can serve one call whose `direction` is an
object, an agent whose name holds a NUL, a statistics day whose count is "abc", then remove
the edit and watch the next sync converge. ``sim.tamper(env)`` returns the environment's
`Tampering`; ``sim.untamper(env)`` forgets it.

Fields of a patch overwrite the record's; the value `REMOVE` deletes the key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REMOVE = object()
Patch = dict[str, Any]


@dataclass
class Tampering:
    """Edits of one environment's answers, by record; each vendor's plug-in applies them to
    its own answers (`Plugin.tamper`).

    ``calls``: call id -> patch (in the vendor's call listings);
    ``agents``: agent id -> patch (in its agent listings and pages);
    ``callback_days``: "YYYY-MM-DD" -> patch of a one-day statistics request's figures;
    ``extra_items``: copies of the first item appended to every page of calls, so a page
    holds more items than ``per_page`` asked for.
    """

    calls: dict[str, Patch] = field(default_factory=dict)
    agents: dict[str, Patch] = field(default_factory=dict)
    callback_days: dict[str, Patch] = field(default_factory=dict)
    extra_items: int = 0

    def __bool__(self) -> bool:
        return bool(self.calls or self.agents or self.callback_days or self.extra_items)


def patched(item: Any, patch: Patch | None) -> Any:
    """The record with the patch's fields overwritten (`REMOVE` deletes one)."""
    if patch is None or not isinstance(item, dict):
        return item
    out = dict(item)
    for key, value in patch.items():
        if value is REMOVE:
            out.pop(key, None)
        else:
            out[key] = value
    return out
