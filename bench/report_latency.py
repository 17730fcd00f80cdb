"""Calls-summary latency against data size: 10,000 and 1,000,000 calls on PostgreSQL.

For each size the script creates an organisation and an environment with 10 agents and
spreads the calls over 180 local days (so a 90-day report also has its previous period),
written with COPY (not through HTTP or the ORM), then builds the rollups with the real
`sync.rollups.refresh_rollups`. It then times a 90-day calls summary exactly as the API
computes it (`reports.cache.cached_report` around `reports.queries.calls_summary`) with the
report cache cleared before every run, 20 runs per size, and prints one table. The target
(p95 under 150 ms at 1M, ratio 1M/10k under 2) is for that summary, which reads one
`AgentDayRollup` row per day, agent and direction. The same summary filtered by status
(which must read the finer `CallRollup` rows) is timed as well, for comparison.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_reports_bench \\
        python bench/report_latency.py [--sizes 10000 1000000] [--runs 20] [--keep]

Data of earlier runs is reused when an environment of the same size already exists
(`--fresh` rebuilds it).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from reports.cache import cached_report  # noqa: E402
from reports.queries import calls_summary  # noqa: E402
from sync.models import Agent, AgentDayRollup, CallRollup  # noqa: E402
from sync.rollups import refresh_rollups  # noqa: E402

DAYS = 180
REPORT_DAYS = 90
AGENTS = 10
LAST_DAY = date(2026, 6, 30)
TIMEZONE = "America/Sao_Paulo"
STATUSES = (("completed", 62), ("answered", 8), ("failed", 8), ("busy", 6), ("no-answer", 12),
            ("initiated", 2), ("ringing", 1), ("queued", 1))
# Calls per local hour follow a working day: quiet nights, busy late mornings/afternoons.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 19, 15, 17, 19, 18, 15, 11, 8, 6, 4, 3, 2, 1)
COLUMNS = ("environment_id", "external_id", "sid", "agent_id", "agent_external_id",
           "to_number", "to_formatted", "from_number", "from_formatted", "direction", "status",
           "provider_status", "duration", "is_testing", "started_at", "ended_at",
           "upstream_updated_at", "hangup_cause", "hangup_source", "raw", "payload_hash",
           "first_seen_at", "last_changed_at")


def environment_for(size: int, fresh: bool) -> Environment:
    org, _ = Organization.objects.get_or_create(
        slug=f"bench-{size}", defaults={"name": f"Bench {size:,}", "timezone": TIMEZONE})
    env = Environment.objects.filter(organization=org, name="bench").first()
    if env is not None and not fresh and env.calls.exists():
        return env
    if env is not None:
        env.delete()
    env = Environment(organization=org, name="bench")
    env.set_token("talq_benchmarkbenchmarkbenchmark0000")
    env.save()
    load_calls(env, size)
    return env


def load_calls(env: Environment, size: int) -> None:
    rng = random.Random(size)
    agents = Agent.objects.bulk_create([
        Agent(environment=env, external_id=str(uuid.UUID(int=rng.getrandbits(128))),
              name=f"Agent {i}", direction="outbound" if i % 3 else "inbound")
        for i in range(AGENTS)
    ])
    tz = env.organization.tzinfo
    first_day = LAST_DAY - timedelta(days=DAYS - 1)
    statuses, status_weights = zip(*STATUSES, strict=True)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor
        with raw_cursor.copy(f"COPY sync_call ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for _ in range(size):
                agent = rng.choice(agents)
                day = first_day + timedelta(days=rng.randrange(DAYS))
                hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
                moment = datetime.combine(day, dtime(hour, rng.randrange(60), rng.randrange(60)),
                                          tzinfo=tz)
                status = rng.choices(statuses, status_weights)[0]
                duration = (max(1, min(5400, int(rng.lognormvariate(4.6, 0.9))))
                            if status in ("completed", "answered") else 0)
                ext = str(uuid.UUID(int=rng.getrandbits(128)))
                phone = f"+1555{rng.randrange(10**7):07d}"
                end = moment + timedelta(seconds=duration)
                copy.write_row((
                    env.pk, ext, f"CA{ext[:12]}", agent.pk, agent.external_id, phone, phone,
                    "+14440000000", "+14440000000", agent.direction, status, "", duration,
                    rng.random() < 0.03, moment, end, end, "", "", json.dumps({"id": ext}), "",
                    now, now,
                ))
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    refresh_rollups(env, [first_day + timedelta(days=i) for i in range(DAYS)])
    print(f"  loaded {size:,} calls in {load_seconds:.1f}s, rollups in "
          f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_call")
        cursor.execute("ANALYZE sync_callrollup")
        cursor.execute("ANALYZE sync_agentdayrollup")


def time_summary(env: Environment, runs: int, status: str | None = None) -> list[float]:
    start = LAST_DAY - timedelta(days=REPORT_DAYS - 1)
    timings = []
    for _ in range(runs):
        cache.clear()
        began = time.perf_counter()
        envs = list(Environment.objects.select_related("organization").filter(pk=env.pk))
        summary = cached_report(
            "calls", envs, {"start": start, "end": LAST_DAY, "status": status},
            lambda envs=envs: calls_summary(envs, start, LAST_DAY, status=status))
        timings.append((time.perf_counter() - began) * 1000)
        assert summary.totals.total > 0
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fresh", action="store_true", help="rebuild the data sets")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL (e.g. …/sb_reports_bench).")
    results = []
    for size in args.sizes:
        env = environment_for(size, args.fresh)
        rows = (AgentDayRollup.objects.filter(environment=env).count(),
                CallRollup.objects.filter(environment=env).count())
        time_summary(env, 2)  # warm the connection and PostgreSQL's buffers, not our cache
        timings = time_summary(env, args.runs)
        time_summary(env, 2, "completed")
        filtered = time_summary(env, args.runs, "completed")
        results.append((size, *rows, statistics.median(timings), percentile(timings, 0.95),
                        statistics.median(filtered), percentile(filtered, 0.95)))
    print(f"{'':>10} | {'agent-day':>9} | {'rollup':>7} | {'summary ms':^17} | "
          f"{'by status ms':^17}")
    print(f"{'calls':>10} | {'rows':>9} | {'rows':>7} | {'median':>7} {'p95':>9} | "
          f"{'median':>7} {'p95':>9}")
    print(f"{'-' * 10}-+-{'-' * 9}-+-{'-' * 7}-+-{'-' * 17}-+-{'-' * 17}")
    for size, agent_days, rollups, median, p95, f_median, f_p95 in results:
        print(f"{size:>10,} | {agent_days:>9,} | {rollups:>7,} | {median:>7.1f} {p95:>9.1f} | "
              f"{f_median:>7.1f} {f_p95:>9.1f}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1/5/15 min) after the runs")
    if len(results) >= 2:
        big, small = results[-1], results[0]
        print(f"ratio {big[0]:,}/{small[0]:,}: summary median {big[3] / small[3]:.2f}, "
              f"p95 {big[4] / small[4]:.2f}; by status median {big[5] / small[5]:.2f}, "
              f"p95 {big[6] / small[6]:.2f} ({REPORT_DAYS}-day range, report cache cleared "
              f"before each of {args.runs} runs)")


if __name__ == "__main__":
    main()
