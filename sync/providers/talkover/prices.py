"""Talkover's price source: `GET /agents/{id}/pricing`, the current plan's price of one agent
(kept once a UTC day per agent by `sync.agent_prices.snapshot`, which its agents stream
calls with `read_price`)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

from sync.agent_prices import ServedPrice


def read_price(client: Any, agent_id: str) -> ServedPrice | None:
    """The agent's price as Talkover serves it; None when the answer has none usable."""
    body = client.get(f"agents/{agent_id}/pricing")
    data = body.get("data") if isinstance(body, dict) else None
    return served_price(data) if isinstance(data, dict) else None


def served_price(data: dict[str, Any]) -> ServedPrice | None:
    """A pricing answer's `data`: `estimated_cost_per_minute`, `currency` (USD when absent),
    the `components` and `transport` breakdown and `calculated_at`."""
    try:
        per_minute = Decimal(str(data["estimated_cost_per_minute"]))
    except (KeyError, InvalidOperation, TypeError):
        return None
    calculated = data.get("calculated_at")
    return ServedPrice(
        per_minute=per_minute,
        currency=str(data.get("currency") or "USD")[:3].upper(),
        components={k: data.get(k) for k in ("components", "transport") if k in data},
        calculated_at=parse_datetime(calculated) if isinstance(calculated, str) else None)
