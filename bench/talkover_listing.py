"""Server-side latency of the Talkover-compatible calls listing over 1M mirrored calls.

Usage (PostgreSQL; the mirror is `bench/report_latency.py`'s 1M-call environment, built on
the first run — about 2 minutes — and reused afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_h21_bench \\
        python bench/talkover_listing.py [--runs 30]

Times whole Django requests through the test client (middleware, auth, view, queries, JSON)
for documented filter combinations, first and deep pages (page 1,000 of 100 = calls
99,901–100,000), with and without `search`, and prints median and p95 in ms per case, with
the ratio of each deep page to its page 1. Target: p95 < 50 ms everywhere, deep ≤ 2× page 1.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Hundreds of requests a minute from one user: the per-user API throttle would answer 429.
os.environ.setdefault("API_THROTTLE_RATE", "1000000/minute")

import report_latency  # noqa: E402  (sets Django up; its 1M-call mirror is ours)
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from portal.models import Environment, Membership, Role  # noqa: E402
from sync.models import Agent, Call  # noqa: E402

SIZE = 1_000_000


def bench_environment() -> Environment:
    env = report_latency.environment_for(SIZE, fresh=False)
    user, _ = get_user_model().objects.get_or_create(username="bench-listing")
    Membership.objects.get_or_create(user=user, organization=env.organization,
                                     defaults={"role": Role.VIEWER})
    return env


def cases(env: Environment) -> list[tuple[str, dict]]:
    agent = Agent.objects.filter(environment=env).order_by("external_id").first()
    call = Call.objects.filter(environment=env).order_by("-started_at")[4321]
    last_day = Call.objects.filter(environment=env).order_by("-started_at").first().started_at
    day = last_day.astimezone(env.organization.tzinfo).date()
    phone, sid = call.to_number, call.sid
    two_days = {"date_from": (day.replace(day=1)).isoformat(), "date_to": day.isoformat()}
    out = []
    for label, params in [
        ("all", {}),
        ("status=completed", {"status": "completed"}),
        ("status=ringing (rare)", {"status": "ringing"}),
        ("direction=inbound", {"direction": "inbound"}),
        ("agent_id", {"agent_id": agent.external_id}),
        ("agent_id+status=failed", {"agent_id": agent.external_id, "status": "failed"}),
        ("status+direction", {"status": "busy", "direction": "outbound"}),
        ("date range (month)", two_days),
        ("date range+status", {**two_days, "status": "no-answer"}),
    ]:
        out.append((f"{label}, page 1", {"per_page": 100, **params}))
        out.append((f"{label}, page 1000", {"per_page": 100, "page": 1000, **params}))
    for label, needle in [
        ("search whole number", phone),
        ("search number, written (+1 555…)", f"+{phone[1]} {phone[2:5]} {phone[5:8]}-{phone[8:]}"),
        ("search number prefix (7)", phone[:7]),
        ("search number suffix (4)", phone[-4:]),
        ("search number inner (5)", phone[4:9]),
        ("search SID whole", sid),
        ("search SID prefix", sid[:8]),
        ("search SID inner", sid[3:9]),
        ("search SID suffix", sid[-5:]),
        ("search call id", call.external_id),
    ]:
        out.append((label, {"per_page": 100, "search": needle}))
    out.append(("search suffix + status", {"per_page": 100, "search": phone[-4:],
                                           "status": "completed"}))
    return out


def timed(client: Client, url: str, params: dict, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, params, response.content[:300])
    return samples


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL (e.g. …/sb_h21_bench).")
    logging.getLogger("portal.request").setLevel(logging.WARNING)  # one line per request
    env = bench_environment()
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="bench-listing"))
    url = f"/api/v1/environments/{env.pk}/calls"
    total = Call.objects.filter(environment=env).count()
    print(f"{total:,} calls in one environment; {args.runs} requests per case; ms")
    print(f"{'case':44} {'median':>7} {'p95':>7} {'total':>9} {'deep/p1':>8}")
    first_page: dict[str, float] = {}
    for label, params in cases(env):
        timed(client, url, params, 2)  # warm PostgreSQL's buffers for this case
        samples = timed(client, url, params, args.runs)
        body = client.get(url, params).json()
        median = statistics.median(samples)
        base = label.rsplit(", ", 1)[0]
        ratio = ""
        if label.endswith("page 1"):
            first_page[base] = median
        elif label.endswith("page 1000"):
            ratio = f"{median / first_page[base]:.2f}"
        print(f"{label:44} {median:7.1f} {p95(samples):7.1f} "
              f"{body['pagination']['total']:>9,} {ratio:>8}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1/5/15 min) after the runs")


if __name__ == "__main__":
    main()
