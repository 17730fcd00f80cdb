"""Talkover API: agents (`meta` pagination), calls by UTC day (`pagination`), callback stats.

Shapes are checked where we depend on them: a renamed key fails the run with a clear
`BadResponse`, never a silently empty mirror.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sync.providers.errors import BadResponse, NotFound
from sync.providers.http import HttpClient, request_line
from sync.providers.talkover.spec import SPEC

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
        # Named by type only: the keys of an unknown answer are its content (a redirect target
        # or a mistyped address could be any service), never shown.
        found = "an object without it" if isinstance(body, dict) else \
            f"a JSON {type(body).__name__}"
        raise BadResponse(f"{where}: expected '{key}' ({kind.__name__}) in the response, "
                          f"found {found}", path=where)
    return body[key]


def _page(body: Any, key: str, where: str, per_page: int) -> Page:
    items = _require(body, "data", list, where)
    if len(items) > per_page:
        # Not a record problem: the listing itself is not what we asked for, so paging
        # (and the completeness check against `total`) cannot be trusted.
        raise BadResponse(f"{where}: a page of {len(items)} items, but per_page={per_page} "
                          f"was asked", path=where)
    meta = _require(body, key, dict, where)
    try:
        return Page(items, int(meta["current_page"]), int(meta["last_page"]),
                    int(meta["total"]))
    except (KeyError, TypeError, ValueError):
        raise BadResponse(f"{where}: '{key}' lacks current_page/last_page/total",
                          path=where) from None


class TalkoverClient(HttpClient):
    """The endpoints the Talkover sync reads."""

    def get(self, path: str, params: Any = None) -> Any:
        """As `HttpClient.get`; a 404 says the base URL is wrong, naming the form expected.

        Every path read here is a collection route that exists on any Talkover workspace,
        so a 404 means the address is not a Talkover API (a host without `/api/v1`, a typo).
        """
        try:
            return super().get(path, params)
        except NotFound as exc:
            raise exc.not_this_api(SPEC.label, SPEC.expected_form, self.base_url) from None

    def agent_pages(self, per_page: int = PER_PAGE) -> Iterator[Page]:
        page = 1
        while True:
            body = self.get("agents", {"per_page": per_page, "page": page})
            current = _page(body, "meta", request_line("GET", "agents"), per_page)
            yield current
            if page >= current.last_page or not current.items:
                return
            page += 1

    def callback_agents(self) -> list[dict[str, Any]]:
        body = self.get("callback-agents")
        if isinstance(body, list):
            return body
        return _require(body, "data", list, request_line("GET", "callback-agents"))

    def calls_page(self, day: date, page: int, status: str | None = None,
                   per_page: int = PER_PAGE) -> Page:
        """One newest-first page of the UTC day's calls, optionally of one status only
        (`per_page=1` makes it a cheap count: `Page.total`)."""
        return self.calls_listing(day, day, page, per_page, status=status)

    def calls_listing(self, first: date, last: date, page: int, per_page: int = PER_PAGE, *,
                      status: str | None = None, search: str | None = None) -> Page:
        """One newest-first page of the calls of the UTC days `first`..`last`, narrowed by the
        documented filters: one `status`, a `search` (a phone number or a call SID)."""
        params: dict[str, Any] = {"date_from": first.isoformat(), "date_to": last.isoformat(),
                                  "per_page": per_page, "page": page}
        if status is not None:
            params["status"] = status
        if search is not None:
            params["search"] = search
        body = self.get("calls", params)
        return _page(body, "pagination", request_line("GET", "calls"), per_page)

    def callback_stats(self, day: date) -> dict[str, Any]:
        body = self.get("callback-agents/stats",
                        {"start_date": day.isoformat(), "end_date": day.isoformat()})
        # The figures themselves are checked by the stream (`talkover.shape`): a bad day is
        # quarantined, the next day still read.
        return _require(body, "data", dict, request_line("GET", "callback-agents/stats"))
