"""One parameter vocabulary for every report page and the calls explorer.

A period, environments and an agent are named the same way everywhere a user can change
them: `range` (a preset, or `custom`), `start` / `end` (local days), `env` (repeated) and
`agent`. The calls explorer used Talkover's names (`date_from`, `date_to`, `environment`,
`agent_id`, which the Talkover-compatible API keeps); they stay accepted as aliases so
saved links and bookmarks keep working, but every link the portal builds (drill links,
navigation) uses the common names, from the constants below.
"""
from __future__ import annotations

from django.http import QueryDict

RANGE, START, END, ENV, AGENT = "range", "start", "end", "env", "agent"
# Old explorer name -> common name.
ALIASES: dict[str, str] = {"date_from": START, "date_to": END, "environment": ENV,
                           "agent_id": AGENT}


def common_names(data: QueryDict) -> QueryDict:
    """A mutable copy of `data` with old names renamed to the common ones (a common name
    given as well wins: the alias is dropped)."""
    out = data.copy()
    for old, new in ALIASES.items():
        if old in out:
            values = out.getlist(old)
            del out[old]
            if new not in out:
                out.setlist(new, values)
    return out
