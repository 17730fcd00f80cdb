"""Origins AI API: one bare JSON array of call records per integer agent id.

The endpoint has no envelope, pagination or date filter, so every run reads each agent's
whole history. The body is parsed once (the bytes are freed when `get` returns) and handed
on as one list the stream consumes chunk by chunk.
"""
from __future__ import annotations

from typing import Any

from sync.clients.base import HttpClient
from sync.clients.errors import BadResponse


class OriginsClient(HttpClient):
    """The endpoint the Origins sync reads."""

    def call_stats(self, agent_id: int) -> list[Any]:
        """Every call record of `agent_id`, oldest first; NotFound for an unknown agent."""
        path = f"api/agents/{int(agent_id)}/call_stats"
        body = self.get(path)
        if not isinstance(body, list):
            found = sorted(body)[:10] if isinstance(body, dict) else type(body).__name__
            raise BadResponse(f"GET /{path}: expected a JSON array of call records, found "
                              f"{found}", path=path)
        return body
