"""What mirroring the vendors' call analysis adds to a back-fill.

A fresh environment of the provider that judges its calls and lists them by time (Vapi:
the first registered whose spec sends a judgement and needs no agent ids) back-filled from
the built-in simulator in this process (`sync.engine.sync_environment`: fetch, parse, write;
`--days` days of `--calls` calls a day, every call with its summary, structured data and
judgement), with the analysis mapped as the sync maps it, and with it left out
(`sync.analysis.Analysis.columns` answering an empty analysis: no summary, judgement or fields
written, so the summaries' index takes no entry; the provider still reads the record),
alternating, `--rounds` each. Printed: the wall time and this
process's CPU time (the fetch and parse; PostgreSQL's own work is in the wall time).
Target: with <= without + 10 %.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_kpis_bench \\
        python bench/analysis_backfill.py [--days 14] [--calls 500] [--rounds 3]

Only use a database made for benchmarks.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)

benchkit.production_settings()
benchkit.setup_django()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from portal.providers import registered  # noqa: E402
from sync.analysis import Analysis  # noqa: E402
from sync.engine import sync_environment  # noqa: E402
from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator  # noqa: E402

LAST_DAY = date(2026, 6, 30)
MAPPED = Analysis.columns
JUDGING = next(key for key, spec in registered().items()
               if "judgement" not in spec.not_sent and not spec.agent_ids)


def backfill(days: int, volume: int, mapped: bool, round_: int) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one fresh back-fill."""
    Analysis.columns = MAPPED if mapped else (
        lambda self, threshold=None: MAPPED(Analysis(), threshold))
    config = SimulatorConfig(
        seed=round_, days=days, calls_per_day=volume, end_date=LAST_DAY,
        now=datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 23, 0, tzinfo=UTC),
        environments={"bench": EnvironmentSpec(JUDGING)})
    org, _ = Organization.objects.get_or_create(
        slug="bench-analysis", defaults={"name": "Analysis", "timezone": "America/Sao_Paulo"})
    Environment.objects.filter(organization=org).delete()
    with running_simulator(config) as (sim, server):
        env = Environment(organization=org, name=f"bench-{round_}-{mapped}", provider=JUDGING,
                          base_url=server.base_url, backfill_days=days,
                          requests_per_minute=1_000_000)
        env.set_token(sim.tokens["bench"])
        env.save()
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = sync_environment(env, now=sim.now)
        took = time.perf_counter() - wall, time.process_time() - cpu
        assert not outcome.failed, [r.error for r in outcome.runs]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL (e.g. …/sb_kpis_bench).")
    settings.VAPI_REQUESTS_PER_MINUTE = 1_000_000
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for round_ in range(args.rounds):  # alternated: the machine's load falls on both
        for mapped in (False, True):
            runs[mapped].append(backfill(args.days, args.calls, mapped, round_))
    print(f"{JUDGING} back-fill of {args.days} days x {args.calls:,} calls, {args.rounds} rounds, "
          "medians, s")
    print(f"{'analysis':<24} | {'wall':>8} | {'CPU (this process)':>18}")
    print(f"{'-' * 24}-+-{'-' * 8}-+-{'-' * 18}")
    for mapped, name in ((False, "left out"), (True, "mapped (as the sync)")):
        wall = statistics.median(w for w, _ in runs[mapped])
        cpu = statistics.median(c for _, c in runs[mapped])
        print(f"{name:<24} | {wall:>8.1f} | {cpu:>18.1f}")
    extra = [statistics.median(v[i] for v in runs[True]) /
             statistics.median(v[i] for v in runs[False]) - 1 for i in (0, 1)]
    print(f"mapping adds {extra[0]:+.1%} wall, {extra[1]:+.1%} CPU — target <= +10 %: "
          f"{'met' if max(extra) <= 0.10 else 'MISSED'}")


if __name__ == "__main__":
    main()
