"""Retell environments for tests, and what the simulator's Retell API lists (read over HTTP,
as any client would)."""
from __future__ import annotations

from datetime import date

import requests

from portal.models import Environment, Provider
from sync.simulator import SimulatorConfig
from sync.simulator.config import EnvironmentSpec

KEY = "retell-demo"
END = date(2026, 9, 20)


def retell_config(days: int = 4, calls_per_day: int = 150, end_date: date = END,
                  **kw: object) -> SimulatorConfig:
    return SimulatorConfig(seed=7, days=days, calls_per_day=calls_per_day, end_date=end_date,
                           environments={KEY: EnvironmentSpec("retell", utc_offset_hours=-3)},
                           **kw)


def retell_env(org, sim, server, **fields) -> Environment:
    values = {"backfill_days": sim.config.days, "requests_per_minute": 100000, **fields}
    env = Environment(organization=org, name="Retell", provider=Provider.RETELL,
                      base_url=server.url_of("retell"), **values)
    env.set_token(sim.tokens[KEY])
    env.save()
    return env


def upstream_calls(sim, server, page_size: int = 1000) -> dict[str, dict]:
    """Every call the upstream lists, by id: `POST /v3/list-calls` to its last page."""
    found: dict[str, dict] = {}
    headers = {"Authorization": f"Bearer {sim.tokens[KEY]}"}
    body: dict = {"sort_order": "ascending", "limit": page_size}
    while True:
        answer = requests.post(f"{server.url_of('retell')}/v3/list-calls", json=body,
                               headers=headers, timeout=30)
        answer.raise_for_status()
        page = answer.json()
        found.update({item["call_id"]: item for item in page["calls"]})
        if not page["pagination_key"]:
            return found
        body["pagination_key"] = page["pagination_key"]
