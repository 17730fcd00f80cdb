"""The simulator core serves a vendor it has never heard of: a plug-in found by module name
gets its environments, tokens, routes, error shapes, faults, tampering, members and ground
truth from the core without a line of the core naming it (what Talkover, Origins AI and Vapi
rely on, checked here with a fourth, made-up vendor)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import requests

from sync.providers import discover
from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator
from sync.simulator.plugins import Plugin, plugins
from sync.simulator.response import Response, json_response


class EchoPlugin(Plugin):
    key = "echo"
    label = "Echo"
    token_prefix = "echo_"
    base_path = "/echo"

    def default_environments(self) -> dict[str, EnvironmentSpec]:
        return {"echo-demo": EnvironmentSpec(self.key)}

    def make_store(self, sim: Any, env: str, spec: EnvironmentSpec) -> dict:
        return {"env": env, "records": [{"id": "r1", "n": 1}, {"id": "r2", "n": 2}]}

    def route(self, parts: list[str]) -> tuple[str, str | None] | None:
        return ("records", None) if parts == ["echo", "records"] else None

    def not_found(self, parts: list[str]) -> Response | None:
        return json_response(404, {"echo": "no such path"}) if parts[:1] == ["echo"] else None

    def answer(self, sim: Any, env: str, route: tuple[str, str | None],
               query: dict[str, list[str]], body: bytes) -> Response:
        return json_response(200, sim.store(env, self.key)["records"])

    def error(self, status: int, state: str = "") -> Response:
        return json_response(status, {"echo_error": status, "state": state})

    def members(self, sim: Any) -> dict[str, Any]:
        return {"echo_envs": sim.envs_of(self.key)}

    def truth(self, sim: Any) -> object:
        return SimpleNamespace(echo_records=lambda env: sim.store(env, self.key)["records"])


@pytest.fixture
def echo_vendor(monkeypatch):
    found = discover.provider_modules

    def with_echo(name: str):
        modules = found(name)
        return [*modules, SimpleNamespace(PLUGIN=EchoPlugin())] if name == "simulator" else modules

    monkeypatch.setattr(discover, "provider_modules", with_echo)
    plugins.cache_clear()
    yield
    plugins.cache_clear()


def test_a_vendor_the_core_never_named_is_served(echo_vendor):
    assert "echo" in plugins()
    config = SimulatorConfig(seed=3, days=1, environments={
        **EchoPlugin().default_environments(), "other": EnvironmentSpec("echo")})
    with running_simulator(config) as (sim, server):
        token = sim.tokens["echo-demo"]
        assert token.startswith("echo_") and server.echo_url == server.url_of("echo")
        assert server.echo_url == f"{server.base_url}/echo"
        auth = {"Authorization": f"Bearer {token}"}
        answer = requests.get(f"{server.echo_url}/records", headers=auth, timeout=10)
        assert answer.status_code == 200 and answer.json() == sim.truth.echo_records("echo-demo")
        assert sim.echo_envs == ["echo-demo", "other"]
        # Its error shapes, in the core's pipeline: auth, method, unknown path under its prefix.
        assert requests.get(f"{server.echo_url}/records", timeout=10).json() == {
            "echo_error": 401, "state": "missing"}
        assert requests.post(f"{server.echo_url}/records", headers=auth, timeout=10).json()[
            "echo_error"] == 405
        assert requests.get(f"{server.echo_url}/nope", headers=auth, timeout=10).json() == {
            "echo": "no such path"}
        # The core's faults, answered in its shape; the core's revocation.
        sim.faults = "500=1"
        failed = requests.get(f"{server.echo_url}/records", headers=auth, timeout=10)
        assert failed.status_code == 500 and failed.json()["echo_error"] == 500
        sim.faults = None
        sim.revoke("echo-demo")
        assert requests.get(f"{server.echo_url}/records", headers=auth, timeout=10).json()[
            "state"] == "revoked"
        assert [r.env for r in server.request_log][-1] == "echo-demo"


def test_an_unknown_vendor_is_refused_by_name():
    with pytest.raises(ValueError, match="vendor must be one of"):
        EnvironmentSpec("nobody")
