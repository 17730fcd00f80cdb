"""The KPI report against the calls report, at a large generated volume.

An organisation with one environment of 10 agents and `--calls` calls (default 1,000,000)
over 180 local days, generated as bench/outcomes.py generates them (callers from a pool, so
they come back; written with COPY, next contacts kept by `sync.outcomes.
settle_organisation`, rollups refreshed), each answered call also carrying what a vendor's
analysis gives (an answer time, a judgement, transferred, voicemail). Then the 90-day calls
report with coverage (`reports.scope.calls_report`, its cache cleared before each run: cold)
and the 90-day KPI report (`reports.queries.kpis.kpis_summary`, what the API and the page
compute, uncached) are timed alternately, `--runs` each. Target: KPI p50 <= 2x the calls
report's. The environment's provider is one that sends every KPI's fields.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_kpis_bench \\
        python bench/kpis.py [--calls 1000000] [--runs 10] [--fresh]

Data of an earlier run of the same size is reused (`--fresh` rebuilds it). Only use a
database made for benchmarks.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)
import outcomes as generated  # noqa: E402  (bench/outcomes.py: its calls and environment)
from django.db import connection  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from portal.providers import registered  # noqa: E402
from reports.queries.kpis import kpis_summary  # noqa: E402
from sync.outcomes import settle_organisation  # noqa: E402
from sync.partitions import ddl as partitions  # noqa: E402
from sync.write.rollups import refresh_rollups  # noqa: E402

DAYS, REPORT_DAYS, LAST_DAY = generated.DAYS, generated.REPORT_DAYS, generated.LAST_DAY
ANALYSIS = ("answered_at", "judgement", "judgement_raw", "transferred", "voicemail",
            "summary")
COLUMNS = ("environment_id", *generated.VALUES, *ANALYSIS, "raw", "payload_hash",
           "first_seen_at", "last_changed_at")


def analysis_values(rng: random.Random, call: dict) -> dict:
    """What a vendor's analysis adds to one generated call."""
    answered = call["status"] in ("completed", "answered")
    judged = answered and rng.random() < 0.8
    success = judged and rng.random() < 0.7
    return {"answered_at": call["started_at"] + timedelta(seconds=rng.randint(1, 15))
            if answered else None,
            "judgement": ("succeeded" if success else "failed") if judged else "",
            "judgement_raw": ("true" if success else "false") if judged else "",
            "transferred": answered and rng.random() < 0.08,
            "voicemail": answered and call["direction"] == "outbound" and rng.random() < 0.05,
            "summary": "The caller asked about billing." if answered else ""}


def kpi_environment(size: int, fresh: bool) -> Environment:
    org, _ = Organization.objects.get_or_create(
        slug=f"bench-kpis-{size}", defaults={"name": f"KPIs {size:,}",
                                            "timezone": generated.TIMEZONE})
    env = Environment.objects.filter(organization=org, name="bench").first()
    if env is not None and not fresh and env.calls.exists():
        return env
    if env is not None:
        env.delete()
    env, agents = generated.make_environment(org, "bench")
    every = next(key for key, spec in registered().items() if not spec.not_sent & {
        "answered_at", "voicemail", "transferred", "judgement"})
    Environment.objects.filter(pk=env.pk).update(provider=every)
    env.refresh_from_db()
    first = LAST_DAY - timedelta(days=DAYS - 1)
    partitions.ensure((first + timedelta(days=d), 0) for d in range(-1, DAYS + 1))
    rng, now, tz = random.Random(size), datetime.now(UTC), org.tzinfo
    began = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY sync_call ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for _ in range(size):
            v = generated.call_values(rng, agents, first, DAYS, max(1, size // 4), tz)
            v.update(analysis_values(rng, v))
            copy.write_row((env.pk, *(v[c] for c in generated.VALUES),
                            *(v[c] for c in ANALYSIS), json.dumps({"id": v["external_id"]}),
                            "", now, now))
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    settle_organisation(org.pk)
    settling = time.perf_counter() - began
    refresh_rollups(env, [first + timedelta(days=i) for i in range(DAYS)])
    print(f"  {size:,} calls loaded in {loaded:.0f} s, next contacts in {settling:.0f} s",
          file=sys.stderr)
    with connection.cursor() as cursor:
        for table in ("sync_call", "sync_callrollup", "sync_agentdayrollup"):
            cursor.execute(f"ANALYZE {table}")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--fresh", action="store_true", help="rebuild the report's data")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL (e.g. …/sb_kpis_bench).")
    env = kpi_environment(args.calls, args.fresh)
    generated.time_reports(env, 1, kpis_summary)  # warm the connection and the buffers
    calls, kpis, summary = generated.time_reports(env, args.runs, kpis_summary)
    t = summary.totals
    print(f"90-day reports at {args.calls:,} calls ({t.calls:,} in the period, "
          f"{t.succeeded_settled:,} settled successful, peak concurrency "
          f"{t.peak_concurrency}), {args.runs} runs, ms")
    benchkit.print_beside_calls(calls, kpis, "KPI report")


if __name__ == "__main__":
    main()
