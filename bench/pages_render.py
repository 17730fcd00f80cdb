"""Server-side render time of the portal's heaviest pages over 1M mirrored calls.

Usage (PostgreSQL; seeds once, reuses the data on later runs):
    DATABASE_URL=postgres://… python bench/pages_render.py [--calls 1000000] [--runs 5]

Times the whole Django request (middleware, view, queries, template) through the test
client, so it is what the server spends, without network or browser. Prints one table:
median and p95 per page, with the report cache emptied before each request (uncached) and
warm (cached). The searches are the explorer's `search` forms: a whole SID, the SID cut as the
table shows it, its suffix, part of a phone number, and a needle that matches nothing.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from portal.models import Environment, Membership, Organization, Role  # noqa: E402
from sync.models import Agent, Call  # noqa: E402
from sync.rollups import rebuild_rollups  # noqa: E402

SEED_SQL = """
INSERT INTO sync_call (environment_id, external_id, sid, agent_external_id, to_number,
  to_formatted, from_number, from_formatted, direction, status, provider_status, duration,
  is_testing, started_at, ended_at, hangup_cause, hangup_source, raw, payload_hash,
  first_seen_at, last_changed_at)
SELECT %(env)s, 'bench-' || g, 'CA' || md5(g::text), 'bench-agent-' || (g %% 20),
  '+1555' || lpad((g %% 10000000)::text, 7, '0'), '',
  '+1444' || lpad((g * 7 %% 10000000)::text, 7, '0'), '',
  CASE WHEN g %% 3 = 0 THEN 'inbound' ELSE 'outbound' END,
  (ARRAY['completed','completed','completed','completed','completed','completed','answered',
         'failed','busy','no-answer','no-answer'])[1 + g %% 11], '',
  CASE WHEN g %% 11 < 7 THEN 20 + (g * 37 %% 400) ELSE 0 END, g %% 50 = 0,
  now() - ((g %% 7776000) || ' seconds')::interval,
  now() - ((g %% 7776000) || ' seconds')::interval, '', '', '{}'::jsonb, '', now(), now()
FROM generate_series(1, %(n)s) AS g
"""


def seed(calls: int) -> tuple[Organization, Environment]:
    org, _ = Organization.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "timezone": "America/Sao_Paulo"})
    env = Environment.objects.filter(organization=org, name="bench").first()
    if env is None:
        env = Environment(organization=org, name="bench")
        env.set_token("talq_benchbenchbenchbench0000")
        env.save()
    if Call.objects.filter(environment=env).count() < calls:
        Call.objects.filter(environment=env).delete()
        Agent.objects.bulk_create([Agent(environment=env, external_id=f"bench-agent-{i}",
                                         name=f"Agent {i}") for i in range(20)],
                                  ignore_conflicts=True)
        with connection.cursor() as cursor:
            cursor.execute(SEED_SQL, {"env": env.pk, "n": calls})
        rebuild_rollups(env)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sync_call; ANALYZE sync_callrollup")
    return org, env


def timed(client: Client, url: str, runs: int, *, cold: bool) -> tuple[float, float, float]:
    """Median and p95 ms of `runs` requests, and the median CPU ms this process spent on one
    (not PostgreSQL's: on a loaded machine the wall time mostly says how loaded it is);
    `cold` empties the report cache before each request."""
    samples, cpu = [], []
    for _ in range(runs):
        if cold:
            cache.clear()
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return (statistics.median(samples), samples[max(0, math.ceil(0.95 * len(samples)) - 1)],
            statistics.median(cpu))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="only the pages whose label has this")
    args = parser.parse_args()
    org, env = seed(args.calls)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.OWNER})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    sid = Call.objects.filter(environment=env).values_list("sid", flat=True)[12345]
    pages = [
        ("dashboard, last 30 days", "/o/bench/?range=30d"),
        ("dashboard, last 90 days", "/o/bench/?range=90d"),
        ("dashboard, 90 days, one agent", "/o/bench/?range=90d&agent=bench-agent-3"),
        ("calls explorer, first page", "/o/bench/calls/"),
        ("calls explorer, status=failed", "/o/bench/calls/?status=failed"),
        ("calls explorer, sorted by status", "/o/bench/calls/?sort=status"),
        ("calls explorer, sorted by duration", "/o/bench/calls/?sort=-duration"),
        ("calls explorer, page 200", "/o/bench/calls/?page=200"),
        ("calls explorer, search SID", f"/o/bench/calls/?search={sid}"),
        ("calls explorer, search cut SID", f"/o/bench/calls/?search={sid[:13]}"),
        ("calls explorer, search SID suffix", f"/o/bench/calls/?search={sid[-8:]}"),
        ("calls explorer, search phone part", "/o/bench/calls/?search=5550123"),
        ("calls explorer, search zzzz999", "/o/bench/calls/?search=zzzz999"),
        ("agents, last 90 days", "/o/bench/agents/?range=90d"),
        ("callbacks, last 90 days", "/o/bench/callbacks/?range=90d"),
    ]
    total = Call.objects.filter(environment=env).count()
    print(f"{total:,} calls in one environment; {args.runs} requests each; ms "
          "(uncached: report cache emptied before each request)")
    client.get("/o/bench/sync/")  # warm up: imports, template loading, connection
    print(f"{'page':38} {'uncached p50':>12} {'p95':>7} {'cpu':>6} {'cached p50':>11} {'p95':>7} "
          f"{'cpu':>6}")
    for label, url in pages:
        if args.only not in label:
            continue
        cold = timed(client, url, args.runs, cold=True)
        warm = timed(client, url, args.runs, cold=False)
        print(f"{label:38} {cold[0]:12.1f} {cold[1]:7.1f} {cold[2]:6.1f} {warm[0]:11.1f} "
              f"{warm[1]:7.1f} {warm[2]:6.1f}")
    load = os.getloadavg()[0]
    print(f"load average (1 min) {load:.1f} on {os.cpu_count()} CPUs; cpu = median CPU ms of "
          "this process per request (PostgreSQL's not included)")


if __name__ == "__main__":
    main()
