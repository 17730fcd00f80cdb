"""Vapi environments for tests, reading the simulator's Vapi workspace, and what the
simulator holds for them (read over HTTP, as any client would)."""
from __future__ import annotations

from datetime import date, timedelta

import requests
from django.test import Client

from portal.models import Environment, Provider
from sync.simulator import SimulatorConfig
from sync.simulator.config import EnvironmentSpec

KEY = "vapi-demo"
END = date(2026, 9, 20)


def vapi_config(days: int = 4, calls_per_day: int = 150, end_date: date = END,
                **kw: object) -> SimulatorConfig:
    return SimulatorConfig(seed=5, days=days, calls_per_day=calls_per_day, end_date=end_date,
                           environments={KEY: EnvironmentSpec("vapi", utc_offset_hours=-3)},
                           **kw)


def vapi_env(org, sim, server, **fields) -> Environment:
    values = {"backfill_days": sim.config.days, "requests_per_minute": 100000, **fields}
    env = Environment(organization=org, name="Vapi", provider=Provider.VAPI,
                      base_url=server.base_url, **values)
    env.set_token(sim.tokens[KEY])
    env.save()
    return env


def upstream_calls(sim, server, first: date, last: date) -> dict[str, dict]:
    """Every call the upstream lists as created on the UTC days first..last, by id, read
    hour by hour straight from `GET /call` (each hour holds fewer than 1,000)."""
    found: dict[str, dict] = {}
    headers = {"Authorization": f"Bearer {sim.tokens[KEY]}"}
    day = first
    while day <= last:
        for hour in range(24):
            stamp = f"{day.isoformat()}T{hour:02d}"
            answer = requests.get(f"{server.base_url}/call", headers=headers, timeout=30,
                                  params={"limit": 1000, "createdAtGe": f"{stamp}:00:00.000Z",
                                          "createdAtLe": f"{stamp}:59:59.999Z"})
            answer.raise_for_status()
            items = answer.json()
            assert len(items) < 1000
            found.update({item["id"]: item for item in items})
        day += timedelta(days=1)
    return found



def api_summary(client: Client, report: str, env: Environment, first: date, last: date) -> dict:
    """The summary `GET /api/v1/reports/<report>/` gives the client's member for `env` over
    the local days first..last: the portal's figures the cost tests hold against the
    upstream's."""
    answer = client.get(f"/api/v1/reports/{report}/", {
        "environment": env.pk, "start_date": first.isoformat(), "end_date": last.isoformat()})
    assert answer.status_code == 200, answer.content
    return answer.json()["summary"]
