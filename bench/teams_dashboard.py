"""A restricted member's 90-day dashboard against an unrestricted one's.

Usage (PostgreSQL and Redis, as production; the mirror is `bench/report_latency.py`'s calls
over 180 local days ending 2026-06-30 in one environment with 10 agents, built with COPY on
the first run and reused afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench_teams \\
    REDIS_URL=redis://127.0.0.1:6379/6 python bench/teams_dashboard.py [--calls 1000000] [--runs 15]

An owner (the whole organisation) and a viewer restricted to a team of 3 of the 10 agents
each ask for the 90-day dashboard through the test client (the whole Django request), with
the report cache and kept pages emptied before each request (`cold`: every figure computed
from the rollups per agent) and then served again (`kept`). Prints one table with the
restricted / unrestricted ratio of the p95s. Target: cold ratio ≤ 1.5.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOG_LEVEL", "WARNING")

import pages_render  # noqa: E402  (sets Django up through report_latency; the timing helper)
import report_latency  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from portal.models import Membership, Role, Team, TeamAgent  # noqa: E402

TARGET_RATIO = 1.5
TEAM_AGENTS = 3


def member(env, username: str, role: str, team: Team | None) -> Client:
    user, _ = get_user_model().objects.get_or_create(username=username)
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=env.organization, defaults={"role": role})
    membership.teams.set([team] if team else [])
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def bench_team(env) -> Team:
    team, _ = Team.objects.get_or_create(organization=env.organization, name="Bench team")
    agents = list(env.agents.order_by("external_id").values_list("external_id", flat=True))
    TeamAgent.objects.filter(team=team).delete()
    TeamAgent.objects.bulk_create([TeamAgent(team=team, environment=env, agent_external_id=a)
                                   for a in agents[:TEAM_AGENTS]])
    return team


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not hasattr(cache, "_cache"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL, as production does.")
    env = report_latency.environment_for(args.calls, fresh=False)
    slug = env.organization.slug
    team = bench_team(env)
    clients = {"unrestricted (owner)": member(env, "bench-owner", Role.OWNER, None),
               f"restricted ({TEAM_AGENTS} of 10 agents)": member(env, "bench-lead",
                                                                  Role.VIEWER, team)}
    url = f"/o/{slug}/?{pages_render.window(90)}"
    for client in clients.values():
        client.get(url)  # warm up: imports, templates, connection
    print(f"{env.calls.count():,} calls; 90-day dashboard; {args.runs} requests per cell; "
          f"ms (wall p50 / p95, median CPU); load {os.getloadavg()[0]:.1f}")
    print(f"{'member':32} {'cold':^22} {'kept':^22}")
    p95s = {}
    for label, client in clients.items():
        cold = pages_render.timed(client, url, args.runs, prepare=cache.clear)
        kept = pages_render.timed(client, url, args.runs)
        p95s[label] = cold[1]
        print(f"{label:32} {cold[0]:7.1f} / {cold[1]:7.1f} ({cold[2]:5.1f}) "
              f"{kept[0]:7.1f} / {kept[1]:7.1f} ({kept[2]:5.1f})")
    restricted, unrestricted = p95s[list(clients)[1]], p95s[list(clients)[0]]
    ratio = restricted / unrestricted
    print(f"cold p95 ratio restricted / unrestricted: {ratio:.2f} (target ≤ {TARGET_RATIO}) "
          f"{'OK' if ratio <= TARGET_RATIO else 'OVER'}")


if __name__ == "__main__":
    main()
