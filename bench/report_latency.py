"""Calls-summary latency with coverage against data size, on PostgreSQL.

For each size (default 1,000,000 calls) the script creates an organisation and an environment
with 10 agents and spreads the calls over 180 local days (so a 90-day report also has its
previous period), written with COPY (not through HTTP or the ORM), then builds the rollups
with the real `sync.write.rollups.refresh_rollups` and saves the calls cursor a sync would have
left (read from the first day on), so the summaries carry real coverage. It then times the
90-day calls summary with coverage exactly as every face computes it
(`reports.registry.run("calls", …)` of a `ReportScope`: rollups, coverage from the cursors,
comparison with the previous period) with the report cache cleared before every run (cold),
and once more served from the report cache (cached), 200 runs each by default, and prints
one table. Target: cold p95 under 20 ms at 1M calls. The same summary filtered by status
(which must read the finer `CallRollup` rows) is timed as well, for comparison.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench16 \\
        python bench/report_latency.py [--sizes 10000 1000000] [--runs 200] [--fresh]

Data of earlier runs is reused when an environment of the same size already exists
(`--fresh` rebuilds it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)

benchkit.setup_django()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from reports import registry  # noqa: E402
from reports.scope import build_scope  # noqa: E402
from sync.models import Agent, AgentDayRollup, CallRollup, StreamState  # noqa: E402
from sync.partitions import ddl as partitions  # noqa: E402
from sync.partitions.analyze import filled_tables  # noqa: E402
from sync.partitions.pending import merge_pending  # noqa: E402
from sync.stream_names import Stream  # noqa: E402
from sync.write.rollups import refresh_rollups  # noqa: E402

DAYS = 180
REPORT_DAYS = 90
AGENTS = 10
TARGET_P95_MS = 20
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
        save_cursor(env)
        merge_search_index(env)  # a mirror built before the loader merged it
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
    # PostgreSQL: the months' partitions (sync/partitions/ddl.py), as the sync makes them.
    partitions.ensure((first_day + timedelta(days=d), 0) for d in range(-1, DAYS + 1))
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
                sid = f"CA{hashlib.md5(ext.encode()).hexdigest()}"  # "CA" + 32 hex, as Talkover
                copy.write_row((
                    env.pk, ext, sid, agent.pk, agent.external_id, phone, phone,
                    "+14440000000", "+14440000000", agent.direction, status, "", duration,
                    rng.random() < 0.03, moment, end, end, "", "", json.dumps({"id": ext}), "",
                    now, now,
                ))
    load_seconds = time.perf_counter() - started
    save_cursor(env)
    started = time.perf_counter()
    refresh_rollups(env, [first_day + timedelta(days=i) for i in range(DAYS)])
    print(f"  loaded {size:,} calls in {load_seconds:.1f}s, rollups in "
          f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_call")
        cursor.execute("ANALYZE sync_callrollup")
        cursor.execute("ANALYZE sync_agentdayrollup")
    merge_search_index(env)


def merge_search_index(env: Environment) -> None:
    """Merge the search index's pending entries the COPY left, as a back-fill does after its
    last batch (`sync.partitions.pending`): left pending, every search of a month read its
    ~400 pending pages (24 ms of the explorer's 25 ms cut-SID probe at 1M calls), a cost a
    back-filled mirror does not have."""
    first_day = LAST_DAY - timedelta(days=DAYS + 1)
    merge_pending(filled_tables(env, [first_day + timedelta(days=d) for d in range(DAYS + 3)]))


def save_cursor(env: Environment) -> None:
    """The calls cursor a sync that read every generated day would have left: coverage is
    read from it, so the summary is the one with coverage (and a covered previous period)."""
    first_day = LAST_DAY - timedelta(days=DAYS + 1)
    StreamState.objects.update_or_create(environment=env, stream=Stream.CALLS, defaults={
        "cursor": {"oldest": first_day.isoformat(),
                   "read_through": datetime.now(UTC).isoformat()}})


def time_summary(env: Environment, runs: int, status: str | None = None, *,
                 cold: bool = True) -> list[float]:
    """Milliseconds per 90-day summary with coverage, as the faces ask for it: the
    environment row read, the scope built, the calls report (cache cleared first when cold)."""
    start = LAST_DAY - timedelta(days=REPORT_DAYS - 1)
    timings = []
    for _ in range(runs):
        if cold:
            cache.clear()
        began = time.perf_counter()
        envs = list(Environment.objects.select_related("organization").filter(pk=env.pk))
        summary = registry.run("calls", build_scope(envs[0].organization, envs, start, LAST_DAY,
                                           status=status))
        timings.append((time.perf_counter() - began) * 1000)
        assert summary.totals.total > 0 and summary.coverage.complete
        assert summary.previous is not None
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--runs", type=int, default=200)
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
        cold = time_summary(env, args.runs)
        cached = time_summary(env, args.runs, cold=False)
        time_summary(env, 2, "completed")
        filtered = time_summary(env, args.runs, "completed")
        results.append((size, *rows, *(f(t) for t in (cold, cached, filtered)
                                       for f in (statistics.median, p95))))
    print(f"90-day calls summary with coverage, {args.runs} runs per column, milliseconds")
    print(f"{'':>10} | {'agent-day':>9} | {'rollup':>7} | {'cold':^15} | {'cached':^15} | "
          f"{'cold, by status':^15}")
    print(f"{'calls':>10} | {'rows':>9} | {'rows':>7} | "
          + " | ".join([f"{'p50':>7} {'p95':>7}"] * 3))
    print(f"{'-' * 10}-+-{'-' * 9}-+-{'-' * 7}-+-" + "-+-".join(["-" * 15] * 3))
    for size, agent_days, rollups, *figures in results:
        cells = " | ".join(f"{figures[i]:>7.1f} {figures[i + 1]:>7.1f}" for i in (0, 2, 4))
        print(f"{size:>10,} | {agent_days:>9,} | {rollups:>7,} | {cells}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1/5/15 min) after the runs")
    verdict = "met" if results[-1][4] < TARGET_P95_MS else "MISSED"
    print(f"target: cold p95 < {TARGET_P95_MS} ms at {results[-1][0]:,} calls: {verdict}")


def p95(values: list[float]) -> float:
    return benchkit.percentile(values, 0.95)


if __name__ == "__main__":
    main()
