"""The demo's upstream: a simulator served in process, and Acme Voice's environments on it.

Idempotent: re-running points the same environments at the new simulator (its port changes
on every start) and refreshes their tokens; the mirror is kept and only the lookback re-read.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time

from portal.models import Environment, EnvironmentStatus, Organization
from portal.providers import registered, spec_for
from sync.engine import SyncOutcome, sync_environment
from sync.models.core import Trigger
from sync.simulator import Dip, Simulator, SimulatorConfig, SimulatorServer
from sync.simulator.config import default_environments
from sync.simulator.plugins import plugins

# 2 environments × 90 days × 150 calls ≈ 27,000 calls: the back-fill fits well inside two
# minutes on a small machine.
DEMO_CALLS_PER_DAY = 150
DEMO_DAYS = 90


def demo_environments() -> dict[str, str]:
    """Simulator workspace key -> environment name in Acme Voice, every provider's, in the
    providers' order, so the demo shows every provider's faces: its plug-in's `demo_names`,
    else its first default workspace (`Plugin.default_environments`), named after it."""
    defaults, found = default_environments(), {}
    for vendor in registered():
        plugin = plugins().get(vendor)
        if plugin is None:
            continue
        first = [key for key, spec in defaults.items() if spec.vendor == vendor][:1]
        found.update(plugin.demo_names or {
            key: f"Acme {spec_for(vendor).label}" for key in first})
    return found
# The in-process simulator has no rate limit; don't make the demo wait on a real one's.
DEMO_REQUESTS_PER_MINUTE = 6000


@dataclass
class DemoUpstream:
    """The running simulator and the environments pointed at it."""

    simulator: Simulator
    server: SimulatorServer
    environments: list[Environment]
    dips: tuple[Dip, ...] = ()

    @property
    def dipped(self) -> list[Environment]:
        """The environments whose workspaces the dips thin (those of the vendors whose volume
        follows them: `Plugin.volume_dips`)."""
        names, sim = demo_environments(), self.simulator
        thinned = {name for key, name in names.items() if key in sim.config.environments
                   and plugins()[sim.vendor(key)].volume_dips}
        return [e for e in self.environments if e.name in thinned]

    def stop(self) -> None:
        self.server.stop()


def start_upstream(calls_per_day: int = DEMO_CALLS_PER_DAY, days: int = DEMO_DAYS,
                   seed: int = 42, dips: tuple[Dip, ...] = ()) -> tuple[Simulator, SimulatorServer]:
    """A simulator whose clock follows the wall clock, served on a free local port; `dips`
    make volume anomalies for the anomaly alerts to find."""
    sim = Simulator(SimulatorConfig(seed=seed, days=days, calls_per_day=calls_per_day,
                                    realtime=True, dips=dips))
    return sim, sim.serve("127.0.0.1", 0)


def point_demo_environments(org: Organization, sim: Simulator, server: SimulatorServer,
                            days: int = DEMO_DAYS) -> list[Environment]:
    envs = []
    for key, name in demo_environments().items():
        env, _ = Environment.objects.get_or_create(
            organization=org, name=name,
            defaults={"provider": sim.vendor(key), "backfill_days": days})
        env.base_url = server.base_url  # stored in the provider's normal form
        agent_ids = sim.config.environments[key].agent_ids
        if agent_ids:  # its agents cannot be listed: the workspace's are named
            env.provider_settings = {"agent_ids": list(agent_ids)}
        env.set_token(sim.tokens[key])
        env.requests_per_minute = DEMO_REQUESTS_PER_MINUTE
        env.status, env.status_reason = EnvironmentStatus.ACTIVE, ""
        env.save()
        envs.append(env)
    return envs


def backfill_one(env: Environment) -> tuple[SyncOutcome, float]:
    """Sync one demo environment now (no progress bars: the command prints a line for it);
    returns its outcome and seconds."""
    start = time.monotonic()
    outcome = sync_environment(env, trigger=Trigger.BACKFILL)
    return outcome, time.monotonic() - start


def default_dip(now: datetime, tz) -> Dip:
    """A three-hour outage three days ago from 10:00 local (a tenth of the calls kept): what
    the anomaly rule's preview finds in the demo (three mirrored weeks before it)."""
    day = now.astimezone(tz).date() - timedelta(days=3)
    start = datetime.combine(day, dt_time(10), tzinfo=tz).astimezone(UTC)
    return Dip(start, 3, 0.1)
