"""Talkover API: agents (`meta` pagination), calls by UTC day (`pagination`), callback stats.

Shapes are checked where we depend on them: a renamed key fails the run with a clear
`BadResponse`, never a silently empty mirror.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sync.clients.base import HttpClient
from sync.clients.errors import BadResponse

PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    """One page of a listing: its items and the pagination block as served."""

    items: list[dict[str, Any]]
    page: int
    last_page: int
    total: int


def _require(body: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        found = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise BadResponse(f"{where}: expected '{key}' ({kind.__name__}) in the response, "
                          f"found {found}", path=where)
    return body[key]


def _page(body: Any, key: str, where: str) -> Page:
    items = _require(body, "data", list, where)
    meta = _require(body, key, dict, where)
    try:
        return Page(items, int(meta["current_page"]), int(meta["last_page"]),
                    int(meta["total"]))
    except (KeyError, TypeError, ValueError):
        raise BadResponse(f"{where}: '{key}' lacks current_page/last_page/total: {meta}",
                          path=where) from None


class TalkoverClient(HttpClient):
    """The endpoints the Talkover sync reads."""

    def agent_pages(self) -> Iterator[Page]:
        page = 1
        while True:
            body = self.get("agents", {"per_page": PER_PAGE, "page": page})
            current = _page(body, "meta", "GET /agents")
            yield current
            if page >= current.last_page or not current.items:
                return
            page += 1

    def callback_agents(self) -> list[dict[str, Any]]:
        body = self.get("callback-agents")
        if isinstance(body, list):
            return body
        return _require(body, "data", list, "GET /callback-agents")

    def calls_page(self, day: date, page: int) -> Page:
        body = self.get("calls", {"date_from": day.isoformat(), "date_to": day.isoformat(),
                                  "per_page": PER_PAGE, "page": page})
        return _page(body, "pagination", "GET /calls")

    def callback_stats(self, day: date) -> dict[str, Any]:
        body = self.get("callback-agents/stats",
                        {"start_date": day.isoformat(), "end_date": day.isoformat()})
        data = _require(body, "data", dict, "GET /callback-agents/stats")
        for key in ("total_callbacks_received", "callbacks_answered", "callbacks_unmatched"):
            if not isinstance(data.get(key), int):
                raise BadResponse(f"GET /callback-agents/stats: '{key}' missing or not an "
                                  f"integer", path="callback-agents/stats")
        if not isinstance(data.get("callbacks_by_source_agent", []), list):
            raise BadResponse("GET /callback-agents/stats: 'callbacks_by_source_agent' is not "
                              "a list", path="callback-agents/stats")
        return data
