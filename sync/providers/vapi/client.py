"""Vapi API: `GET /assistant` and `GET /call`, both bare JSON arrays (no envelope, no total).

A listing is filtered by inclusive time bounds and capped by `limit` (at most 1,000): a full
answer says only that there may be more, so the caller narrows the bounds (`streams`). Shapes
are checked where we depend on them: an answer that is not an array, or longer than asked,
fails the run with a clear `BadResponse`, never a silently partial mirror.
"""
from __future__ import annotations

from typing import Any

from sync.providers.errors import BadResponse, NotFound
from sync.providers.http import HttpClient, request_line
from sync.providers.vapi.spec import SPEC

LIMIT = 1000


class VapiClient(HttpClient):
    """The endpoints the Vapi sync reads."""

    def get(self, path: str, params: Any = None) -> Any:
        """As `HttpClient.get`; a 404 on a collection says the base URL is wrong."""
        try:
            return super().get(path, params)
        except NotFound as exc:
            raise exc.not_this_api(SPEC.label, SPEC.expected_form, self.base_url) from None

    def _listing(self, path: str, params: dict[str, Any]) -> list[Any]:
        body = self.get(path, params)
        where = request_line("GET", path)
        if not isinstance(body, list):
            raise BadResponse(f"{where}: expected a JSON array, found a JSON "
                              f"{type(body).__name__}", path=path)
        if len(body) > int(params.get("limit", LIMIT)):
            raise BadResponse(f"{where}: {len(body)} items, but limit={params.get('limit')} "
                              f"was asked", path=path)
        return body

    def calls(self, limit: int = LIMIT, **bounds: str) -> list[Any]:
        """Calls within `bounds` (`updatedAtGe=…`, `createdAtLe=…`: ISO instants, inclusive
        or strict as named), at most `limit`."""
        return self._listing("call", {"limit": limit, **bounds})

    def assistants(self, limit: int = LIMIT, **bounds: str) -> list[Any]:
        return self._listing("assistant", {"limit": limit, **bounds})
