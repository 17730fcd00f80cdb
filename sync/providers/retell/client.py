"""Retell API: `POST /v3/list-calls` (a JSON body, cursor pages), `GET /v2/get-call/{id}` and
`GET /list-agents` (a bare array), through the one transport (`sync.providers.http`).

A list-calls answer must be an object with a `calls` array no longer than asked and a
`pagination_key` that is a string or absent/null (the last page); anything else fails the run
with a clear `BadResponse`, never a silently partial mirror.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.providers.errors import BadResponse, NotFound
from sync.providers.http import HttpClient
from sync.providers.retell.spec import SPEC

LIMIT = 1000
LIST_CALLS = "v3/list-calls"


@dataclass(frozen=True)
class CallPage:
    calls: list[Any]
    next_key: str | None


class RetellClient(HttpClient):
    """The endpoints the Retell sync reads."""

    def request(self, method: str, path: str, **kw: Any) -> Any:
        """As `HttpClient.request`; a 404 on a collection says the base URL is wrong."""
        try:
            return super().request(method, path, **kw)
        except NotFound as exc:
            if path.startswith("v2/get-call/"):
                raise
            raise exc.not_this_api(SPEC.label, SPEC.expected_form, self.base_url) from None

    def list_calls(self, lower_ms: int, upper_ms: int | None = None, limit: int = LIMIT,
                   pagination_key: str | None = None) -> CallPage:
        """One page of the calls that started in [lower_ms, upper_ms] (inclusive; no upper
        bound when None), oldest first."""
        window: dict[str, int] = {"lower_threshold": lower_ms}
        if upper_ms is not None:
            window["upper_threshold"] = upper_ms
        body: dict[str, Any] = {"filter_criteria": {"start_timestamp": window},
                                "sort_order": "ascending", "limit": limit}
        if pagination_key:
            body["pagination_key"] = pagination_key
        answer = self.post(LIST_CALLS, json=body)
        where = f"POST /{LIST_CALLS}"
        if not isinstance(answer, dict) or not isinstance(answer.get("calls"), list):
            raise BadResponse(f"{where}: expected an object with a calls array",
                              path=LIST_CALLS)
        calls, key = answer["calls"], answer.get("pagination_key")
        if len(calls) > limit:
            raise BadResponse(f"{where}: {len(calls)} calls, but limit={limit} was asked",
                              path=LIST_CALLS)
        if key is not None and not isinstance(key, str):
            raise BadResponse(f"{where}: pagination_key must be text", path=LIST_CALLS)
        return CallPage(calls, key or None)

    def agents(self) -> list[Any]:
        answer = self.get("list-agents")
        if not isinstance(answer, list):
            raise BadResponse("GET /list-agents: expected a JSON array", path="list-agents")
        return answer

    def call(self, call_id: str) -> Any:
        return self.get(f"v2/get-call/{call_id}")
