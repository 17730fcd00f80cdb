"""Benchmark: admin changelists over many mirrored calls (default 1,000,000) on PostgreSQL.

    DATABASE_URL=postgres://… python bench/admin_changelist.py [--calls N] [--reuse]

Creates (or with --reuse keeps) a `bench-admin` organisation whose environment holds N calls,
then times admin pages as a superuser and as a staff owner, printing one table: page, user,
milliseconds (best of 3), queries, and whether a COUNT over sync_call ran.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from urllib.parse import urlencode

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)

benchkit.setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from portal.models import Environment, Membership, Organization, Role  # noqa: E402
from sync.models import Agent, Call  # noqa: E402
from sync.write.rollups import rebuild_rollups  # noqa: E402

SLUG = "bench-admin"


def seed(calls: int) -> Environment:
    """A fresh organisation with one environment, 20 agents and `calls` calls over 90 days."""
    Organization.objects.filter(slug=SLUG).delete()
    org = Organization.objects.create(slug=SLUG, name="Bench admin", timezone="UTC")
    env = Environment(organization=org, name="bench")
    env.set_token("talq_bench_token_not_real_0000")
    env.save()
    agents = Agent.objects.bulk_create(
        Agent(environment=env, external_id=f"b{i}", name=f"Bench agent {i}") for i in range(20))
    first_agent = agents[0].pk
    with connection.cursor() as cursor:
        # Bulk data for a benchmark: generated in the database, not row by row over the wire.
        cursor.execute(
            """
            INSERT INTO sync_call (environment_id, external_id, sid, agent_id, agent_external_id,
                to_number, to_formatted, from_number, from_formatted, direction, status,
                provider_status, duration, is_testing, started_at, hangup_cause, hangup_source,
                raw, payload_hash, first_seen_at, last_changed_at)
            SELECT %s, 'c' || g, 'CA' || lpad(g::text, 12, '0'), %s + g %% 20, 'b' || g %% 20,
                '+5511000000000', '', '+55119' || lpad(g::text, 8, '0'), '',
                CASE WHEN g %% 3 = 0 THEN 'outbound' ELSE 'inbound' END,
                (ARRAY['completed','no-answer','busy','failed','answered'])[1 + g %% 5],
                '', g %% 600, g %% 50 = 0, now() - (g || ' seconds')::interval * 7.776,
                '', '', jsonb_build_object('id', g), '', now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [env.pk, first_agent, calls],
        )
        cursor.execute("ANALYZE sync_call")
    rebuild_rollups(env)
    return env


def users(env: Environment) -> dict:
    model = get_user_model()
    root, _ = model.objects.get_or_create(
        username="bench-root", defaults={"is_superuser": True, "is_staff": True})
    owner, _ = model.objects.get_or_create(username="bench-owner", defaults={"is_staff": True})
    Membership.objects.get_or_create(user=owner, organization=env.organization,
                                     defaults={"role": Role.OWNER})
    return {"superuser": root, "staff owner": owner}


def measure(client: Client, url: str) -> tuple[float, int, bool]:
    best = float("inf")
    for _ in range(3):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        best = min(best, elapsed)
    counted = any("COUNT(" in q["sql"].upper() and "sync_call" in q["sql"]
                  for q in ctx.captured_queries)
    return best, len(ctx.captured_queries), counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep existing bench data")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: estimates are PostgreSQL's.")
    env = Environment.objects.filter(organization__slug=SLUG).first()
    if env is None or not options.reuse:
        started = time.perf_counter()
        env = seed(options.calls)
        print(f"seeded {options.calls} calls in {time.perf_counter() - started:.1f}s")
    total = Call.objects.filter(environment=env).count()
    sid, pk = Call.objects.filter(environment=env).values_list("sid", "pk").first()
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    day = urlencode({"started_at__gte": str(start), "started_at__lt": str(end)})
    pages = [
        ("calls, page 1", "/admin/sync/call/"),
        ("calls, page 500", "/admin/sync/call/?p=500"),
        ("calls, status filter", "/admin/sync/call/?status__exact=busy"),
        ("calls, env + today", f"/admin/sync/call/?environment__id__exact={env.pk}&{day}"),
        ("calls, search SID", f"/admin/sync/call/?q={sid}"),
        ("call detail", f"/admin/sync/call/{pk}/change/"),
        ("environments", "/admin/portal/environment/"),
        ("sync runs", "/admin/sync/syncrun/"),
    ]
    print(f"{total} calls in the bench environment")
    print(f"{'page':24} {'user':12} {'ms':>8} {'queries':>8} {'COUNT(sync_call)':>17}")
    for label, user in users(env).items():
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        for name, url in pages:
            ms, queries, counted = measure(client, url)
            print(f"{name:24} {label:12} {ms:8.1f} {queries:8d} {'yes' if counted else 'no':>17}")


if __name__ == "__main__":
    main()
