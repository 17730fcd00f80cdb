"""Origins AI environments for tests: one reading the simulator's `origins-demo` workspace
(`origins_env`), one pointed at a mocked base URL (`env_for`, with `responses`)."""
from __future__ import annotations

from portal.models import Environment, Provider

BASE = "https://origins.test"  # where `env_for` points (mock it with `responses`)
KEY = "origins-demo"
AGENTS = (4012, 4013)  # small_config's Origins agents


def origins_env(org, sim, server, agent_ids=AGENTS, **fields) -> Environment:
    """An Origins environment of `org` reading the simulator's `origins-demo`."""
    env = Environment(organization=org, name="Origins", provider=Provider.ORIGINS,
                      base_url=server.origins_url, backfill_days=sim.config.days,
                      requests_per_minute=100000,
                      provider_settings={"agent_ids": list(agent_ids)}, **fields)
    env.set_token(sim.tokens[KEY])
    env.save()
    return env


def env_for(org) -> Environment:
    env = Environment(organization=org, name="O", provider=Provider.ORIGINS, base_url=BASE,
                      requests_per_minute=100000, provider_settings={"agent_ids": [7]})
    env.set_token("orig_" + "7" * 40)
    env.save()
    return env
