"""The outcome report against the calls report, and what resolution adds to a back-fill.

1. Report latency. An organisation with one Talkover environment, 10 agents (half of them
   priced by a price snapshot) and `--calls` calls (default 1,000,000) over 180 local days,
   numbers drawn from a pool of a quarter as many callers (so callers come back), written
   with COPY; each call's next contact kept by the sync's own rule (`sync.outcomes.
   settle_organisation`), rollups by `refresh_rollups`, the calls cursor a sync would leave.
   Then the 90-day calls report with coverage (`reports.registry.run("calls", …)`, its cache
   cleared before each run: cold) and the 90-day outcome report (`reports.queries.outcomes.
   outcomes_summary`, what the API and the page compute; it has no cache) are timed
   alternately, `--runs` each. Target: outcome p50 <= 2x the calls report's.
2. Back-fill cost. `--backfill` calls (default 50,000) over 30 days written as the sync
   writes them (`sync.write.upsert.upsert` in batches of 200, the callback relink and, when
   on, `settle_written`; rollups refreshed per day), into a fresh environment, with
   resolution on and off (`settings.SYNC_RESOLUTION`), alternating, `--rounds` each.
   Then the whole back-fill as the sync runs it (`sync.engine.sync_environment` of a fresh
   environment against the built-in simulator, in this process: `--sim-days` days of
   `--sim-calls` calls a day, fetch, parse and write), resolution on and off, alternating.
   Target: on <= off + 10 % (the write alone is the worst case: no fetch to share it with).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_outcomes_bench \\
        python bench/outcomes.py [--calls 1000000] [--runs 20] [--backfill 50000] [--rounds 3]
            [--sim-days 14] [--sim-calls 1000]

Data of an earlier run of the same size is reused (`--fresh` rebuilds it). Only use a
database made for benchmarks.
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
from decimal import Decimal

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)

benchkit.production_settings()
benchkit.setup_django()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from reports import registry  # noqa: E402
from reports.queries.outcomes import outcomes_summary  # noqa: E402
from reports.scope import build_scope  # noqa: E402
from sync.models import Agent, AgentPrice, Call, StreamState  # noqa: E402
from sync.outcomes import settle_organisation  # noqa: E402
from sync.partitions import ddl as partitions  # noqa: E402
from sync.providers.records import CALL_UPDATE_FIELDS  # noqa: E402
from sync.stream_names import Stream  # noqa: E402
from sync.write.rollups import refresh_rollups  # noqa: E402
from sync.write.upsert import upsert  # noqa: E402

DAYS, REPORT_DAYS, AGENTS, BATCH = 180, 90, 10, 200
LAST_DAY = date(2026, 6, 30)
TIMEZONE = "America/Sao_Paulo"
STATUSES = (("completed", 62), ("answered", 8), ("failed", 8), ("busy", 6), ("no-answer", 12),
            ("initiated", 2), ("ringing", 1), ("queued", 1))
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 19, 15, 17, 19, 18, 15, 11, 8, 6, 4, 3, 2, 1)
# What a generated call sets (`call_values`), then what COPY adds (Django's defaults are not
# the database's).
VALUES = ("external_id", "sid", "agent_id", "agent_external_id", "to_number", "to_formatted",
          "from_number", "from_formatted", "direction", "status", "provider_status", "duration",
          "billed_duration", "is_testing", "started_at", "ended_at", "upstream_updated_at",
          "hangup_cause", "hangup_source")
COLUMNS = ("environment_id", *VALUES, "raw", "payload_hash", "first_seen_at", "last_changed_at")


def call_values(rng: random.Random, agents: list[Agent], first: date, days: int, callers: int,
                tz) -> dict:
    """One generated call, as column -> value (a caller of the pool, either direction)."""
    agent = rng.choice(agents)
    day = first + timedelta(days=rng.randrange(days))
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    moment = datetime.combine(day, dtime(hour, rng.randrange(60), rng.randrange(60)), tzinfo=tz)
    status = rng.choices(*zip(*STATUSES, strict=True))[0]
    duration = (max(1, min(5400, int(rng.lognormvariate(4.6, 0.9))))
                if status in ("completed", "answered") else 0)
    caller = f"+55 11 9{rng.randrange(callers):08d}"
    direction = rng.choice(("inbound", "outbound"))
    ext = str(uuid.UUID(int=rng.getrandbits(128)))
    end = moment + timedelta(seconds=duration)
    to = caller if direction == "outbound" else "+551130000000"
    source = caller if direction == "inbound" else "+551130000000"
    return {"external_id": ext, "sid": f"CA{ext.replace('-', '')}", "agent_id": agent.pk,
            "agent_external_id": agent.external_id, "to_number": to, "to_formatted": to,
            "from_number": source, "from_formatted": source, "direction": direction,
            "status": status, "provider_status": "", "duration": duration,
            "billed_duration": float(duration), "is_testing": rng.random() < 0.03,
            "started_at": moment, "ended_at": end, "upstream_updated_at": end,
            "hangup_cause": "", "hangup_source": ""}


def make_environment(org: Organization, name: str) -> tuple[Environment, list[Agent]]:
    env = Environment(organization=org, name=name)
    env.set_token("talq_benchmarkbenchmarkbenchmark0000")
    env.save()
    rng = random.Random(name)
    agents = Agent.objects.bulk_create([
        Agent(environment=env, external_id=str(uuid.UUID(int=rng.getrandbits(128))),
              name=f"Agent {i}") for i in range(AGENTS)])
    first = LAST_DAY - timedelta(days=DAYS + 1)
    AgentPrice.objects.bulk_create([  # half the agents priced (the rest: no cost known)
        AgentPrice(environment=env, agent_external_id=a.external_id, valid_from=first,
                   checked_on=LAST_DAY, currency="USD", per_minute=Decimal("0.0875"))
        for a in agents[::2]])
    StreamState.objects.update_or_create(environment=env, stream=Stream.CALLS, defaults={
        "cursor": {"oldest": first.isoformat(), "read_through": datetime.now(UTC).isoformat()}})
    return env, agents


def report_environment(size: int, fresh: bool) -> Environment:
    org, _ = Organization.objects.get_or_create(
        slug=f"bench-outcomes-{size}", defaults={"name": f"Outcomes {size:,}",
                                                "timezone": TIMEZONE})
    env = Environment.objects.filter(organization=org, name="bench").first()
    if env is not None and not fresh and env.calls.exists():
        return env
    if env is not None:
        env.delete()
    env, agents = make_environment(org, "bench")
    first = LAST_DAY - timedelta(days=DAYS - 1)
    partitions.ensure((first + timedelta(days=d), 0) for d in range(-1, DAYS + 1))
    rng, now, tz = random.Random(size), datetime.now(UTC), org.tzinfo
    began = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY sync_call ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for _ in range(size):
            v = call_values(rng, agents, first, DAYS, max(1, size // 4), tz)
            copy.write_row((env.pk, *(v[c] for c in VALUES),
                            json.dumps({"id": v["external_id"]}), "", now, now))
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    settled = settle_organisation(org.pk)
    settling = time.perf_counter() - began
    began = time.perf_counter()
    refresh_rollups(env, [first + timedelta(days=i) for i in range(DAYS)])
    print(f"  {size:,} calls loaded in {loaded:.0f} s; next contacts of {settled:,} calls "
          f"kept in {settling:.0f} s (settle_organisation); rollups in "
          f"{time.perf_counter() - began:.0f} s", file=sys.stderr)
    with connection.cursor() as cursor:
        for table in ("sync_call", "sync_callrollup", "sync_agentdayrollup", "sync_agentprice"):
            cursor.execute(f"ANALYZE {table}")
    return env


def time_reports(env: Environment, runs: int, summary_of=outcomes_summary
                 ) -> tuple[list[float], list[float], object]:
    """Milliseconds of the cold 90-day calls report and of `summary_of`'s report (the
    outcome report; bench/kpis.py: the KPI report), alternated."""
    start = LAST_DAY - timedelta(days=REPORT_DAYS - 1)
    calls, outcomes, summary = [], [], None
    for _ in range(runs):
        cache.clear()
        began = time.perf_counter()
        envs = list(Environment.objects.select_related("organization").filter(pk=env.pk))
        report = registry.run("calls", build_scope(envs[0].organization, envs, start, LAST_DAY))
        calls.append((time.perf_counter() - began) * 1000)
        assert report.totals.total > 0 and report.coverage.complete
        began = time.perf_counter()
        envs = list(Environment.objects.select_related("organization").filter(pk=env.pk))
        summary = summary_of(envs, start, LAST_DAY, "day")
        outcomes.append((time.perf_counter() - began) * 1000)
        assert summary.totals.calls == report.totals.total
    return calls, outcomes, summary


def backfill_seconds(count: int, resolution: bool, round_: int) -> float:
    """Seconds to write `count` calls (30 days) as the sync does, resolution on or off."""
    settings.SYNC_RESOLUTION = resolution
    org, _ = Organization.objects.get_or_create(
        slug="bench-outcomes-backfill", defaults={"name": "Backfill", "timezone": TIMEZONE})
    Environment.objects.filter(organization=org).delete()
    env, agents = make_environment(org, f"backfill-{round_}-{resolution}")
    first = LAST_DAY - timedelta(days=29)
    partitions.ensure((first + timedelta(days=d), 0) for d in range(-1, 31))
    rng = random.Random(round_)
    rows = []
    for _ in range(count):
        v = call_values(rng, agents, first, 30, max(1, count // 4), org.tzinfo)
        v.update(environment_id=env.pk, raw={"id": v["external_id"]},
                 payload_hash=v["external_id"].replace("-", ""))
        rows.append(v)
    rows.sort(key=lambda r: r["started_at"])  # a back-fill reads day by day
    began = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        upsert(Call, env, rows[i:i + BATCH], key="external_id",
               update_fields=CALL_UPDATE_FIELDS)
    refresh_rollups(env, [first + timedelta(days=d) for d in range(30)])
    return time.perf_counter() - began


def sync_seconds(days: int, volume: int, resolution: bool, round_: int) -> float:
    """Seconds of a fresh environment's back-fill from the simulator (`days` days of
    `volume` calls), resolution on or off."""
    from sync.engine import sync_environment
    from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator

    settings.SYNC_RESOLUTION = resolution
    day = LAST_DAY
    config = SimulatorConfig(seed=round_, days=days, calls_per_day=volume, end_date=day,
                             now=datetime(day.year, day.month, day.day, 23, 0, tzinfo=UTC),
                             environments={"bench": EnvironmentSpec("talkover")})
    org, _ = Organization.objects.get_or_create(
        slug="bench-outcomes-sync", defaults={"name": "Sync", "timezone": TIMEZONE})
    Environment.objects.filter(organization=org).delete()
    with running_simulator(config) as (sim, server):
        env = Environment(organization=org, name=f"sync-{round_}-{resolution}",
                          base_url=server.talkover_url, backfill_days=days,
                          requests_per_minute=1_000_000)
        env.set_token(sim.tokens["bench"])
        env.save()
        began = time.perf_counter()
        outcome = sync_environment(env, now=sim.now)
        took = time.perf_counter() - began
        assert not outcome.failed
    return took


def rounds(title: str, off: list[float], on: list[float], what: str) -> float:
    """Print one on/off table; return what resolution adds (a fraction)."""
    print(f"\n{title}\n{'resolution':<28} | {'median':>8} | {'each':>24}")
    print(f"{'-' * 28}-+-{'-' * 8}-+-{'-' * 24}")
    for name, values in (("off", off), ("on (settle_written)", on)):
        each = " ".join(f"{v:.1f}" for v in values)
        print(f"{name:<28} | {statistics.median(values):>8.1f} | {each:>24}")
    extra = statistics.median(on) / statistics.median(off) - 1
    print(f"resolution adds {extra:+.1%} {what}")
    sys.stdout.flush()
    return extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backfill", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sim-days", type=int, default=14)
    parser.add_argument("--sim-calls", type=int, default=1000)
    parser.add_argument("--fresh", action="store_true", help="rebuild the report's data")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL (e.g. …/sb_outcomes_bench).")
    env = report_environment(args.calls, args.fresh)
    time_reports(env, 2)  # warm the connection and PostgreSQL's buffers
    calls, outcomes, summary = time_reports(env, args.runs)
    t = summary.totals
    print(f"90-day reports at {args.calls:,} calls ({t.calls:,} in the period, {t.settled:,} "
          f"settled, {t.repeat_contacts:,} repeats, cost {t.cost} {t.cost_source}), "
          f"{args.runs} runs, ms")
    benchkit.print_beside_calls(calls, outcomes, "outcome report")
    sys.stdout.flush()
    on, off = [], []
    for round_ in range(args.rounds):  # alternated: the machine's load falls on both
        off.append(backfill_seconds(args.backfill, False, round_))
        on.append(backfill_seconds(args.backfill, True, round_))
    rounds(f"back-fill of {args.backfill:,} calls (30 days, batches of {BATCH}), "
           f"{args.rounds} rounds, s", off, on, "to the write alone")
    sync_on, sync_off = [], []
    for round_ in range(args.rounds):
        sync_off.append(sync_seconds(args.sim_days, args.sim_calls, False, round_))
        sync_on.append(sync_seconds(args.sim_days, args.sim_calls, True, round_))
    settings.SYNC_RESOLUTION = True
    whole = rounds(f"back-fill from the simulator, {args.sim_days} days x {args.sim_calls:,} "
                   f"calls (fetch, parse, write), {args.rounds} rounds, s", sync_off, sync_on,
                   "to the back-fill")
    print(f"target <= +10 % on the back-fill: {'met' if whole <= 0.10 else 'MISSED'}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1/5/15 min) after the runs")


if __name__ == "__main__":
    main()
