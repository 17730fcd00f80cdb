"""Calls storage, partitioned by month (sync/partitions/ddl.py), as the mirror grows.

    python bench/partition_storage.py [--max 10000000] [--sample 20000] [--keep]
    python bench/partition_storage.py --convert 1000000     # the partition conversion's time

Needs a PostgreSQL server: DATABASE_URL names it (its database part is replaced); the run gets
its own scratch database, `<name>_bench_partitioned` (e.g. sb_bench_partitioned), created
by `migrate` and dropped at the end unless `--keep` (10M calls: about 15 GB). The sync writes
only the partitioned table (no path of it is written for a plain one), so the plain table's
figures in docs/partitioning.md are the record of that choice, not something this re-runs.

At each size (100k, 1M, 10M calls; `--max 1000000` stops at 1M) the table is filled by SQL
(calls of 100 environments spread over 24 months, realistic columns and a small raw record),
analysed, and then measured through the sync's real write path (`sync.write.upsert.upsert_keys`
into the staging table, merged in batches of SYNC_BATCH_ROWS, each batch its own transaction,
as `sync.write.batch_writer` does):

- size: the whole database and the calls table with its indexes, per million calls;
- insert: `--sample` new calls of one environment over its last 7 days (a back-fill's
  batches; on the partitioned table this includes the moved-call check of each new call);
- unchanged: the same calls merged again (an incremental sync reading what it has);
- rollups: `sync.write.rollups.refresh_rollups` of those 7 local days (what the sync does after
  writing them).

Wall-clock figures: on a machine shared with other work they are indicative only.
`measure(...)` returns the rows (bench/fleet.py imports it); the script prints one table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import benchkit  # bench/benchkit.py: what the benchmark scripts share

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100_000, 1_000_000, 10_000_000)
LAYOUTS = ("partitioned",)
ENVIRONMENTS = 100
SPAN_DAYS = 730

FILL = """
INSERT INTO sync_call (environment_id, external_id, sid, agent_external_id, to_number,
  to_formatted, from_number, from_formatted, direction, status, provider_status, duration,
  is_testing, started_at, hangup_cause, hangup_source, raw, payload_hash, first_seen_at,
  last_changed_at)
SELECT (%(envs)s::int[])[1 + g %% %(n_envs)s], 'b' || g, 'CA' || md5(g::text),
  'agent-' || (g %% 7), '+1555' || lpad((g * 7919 %% 10000000)::text, 7, '0'), '',
  '+14440000000', '', (ARRAY['inbound','outbound','outbound'])[1 + g %% 3],
  (ARRAY['completed','completed','completed','busy','no-answer','failed'])[1 + g %% 6], '',
  (g * 37) %% 600, false,
  %(end)s - (((g::bigint * 6317) %% (%(span)s * 86400)) || ' seconds')::interval,
  'normal', 'agent', jsonb_build_object('id', 'b' || g, 'sid', 'CA' || md5(g::text),
  'status', 'completed', 'duration', (g * 37) %% 600, 'direction', 'outbound',
  'to', '+1555' || lpad((g * 7919 %% 10000000)::text, 7, '0'), 'from', '+14440000000',
  'is_testing', false, 'agent', jsonb_build_object('id', 'agent-' || (g %% 7))),
  md5(g::text), now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
"""


@dataclass(frozen=True)
class Row:
    layout: str
    calls: int
    db_mb_per_million: float
    table_mb_per_million: float
    insert_per_s: float
    unchanged_per_s: float
    rollup_s: float
    partitions: int


# --- child: one layout, in its own database ---------------------------------------------------

def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    benchkit.production_settings()
    benchkit.setup_django()


def _sizes(cursor) -> tuple[int, int]:
    cursor.execute(f"SELECT pg_database_size(current_database()), {benchkit.CALLS_TABLE_BYTES}")
    db, table = cursor.fetchone()
    return int(db), int(table)


def _rows(env, step: int, count: int, end):
    from datetime import timedelta

    from sync.write.upsert import canonical

    rows = []
    for i in range(count):
        started = end - timedelta(seconds=(i * 7 * 86400) // count + 1)
        ext = f"m{step}-{i}"
        raw = canonical({"id": ext, "sid": f"CA{ext}", "status": "completed", "duration": 61,
                         "direction": "inbound", "to": "+15550000000", "from": "+14440000000",
                         "created_at": started.isoformat(), "agent": {"id": "agent-1"}})
        rows.append({"environment_id": env.pk, "external_id": ext, "sid": f"CA{ext}",
                     "agent_external_id": "agent-1", "to_number": "+15550000000",
                     "from_number": "+14440000000", "direction": "inbound",
                     "status": "completed", "duration": 61, "started_at": started, "raw": raw,
                     "payload_hash": raw.digest})
    return rows


def _write(env, rows, batch: int) -> float:
    from django.db import transaction

    from sync.models import Call
    from sync.providers.records import CALL_UPDATE_FIELDS
    from sync.write.upsert import ensure_stage, upsert_keys

    ensure_stage(Call)
    began = time.perf_counter()
    for i in range(0, len(rows), batch):
        with transaction.atomic():
            upsert_keys(Call, env, [dict(r) for r in rows[i:i + batch]], key="external_id",
                        update_fields=CALL_UPDATE_FIELDS, staged=True)
    return time.perf_counter() - began


def run_layout(layout: str, sizes: list[int], sample: int) -> list[dict]:
    from datetime import UTC, datetime

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from portal.models import Environment, Organization
    from sync.partitions import ddl as partitions
    from sync.write.rollups import local_days_of, refresh_rollups

    call_command("migrate", verbosity=0)
    partitions.ensure_ahead(behind=SPAN_DAYS // 30 + 2)
    org = Organization.objects.create(slug="bench", name="Bench", timezone="America/Sao_Paulo")
    envs = [Environment.objects.create(organization=org, name=f"env {i}")
            for i in range(ENVIRONMENTS)]
    sample_env = envs[0]
    end = datetime.now(UTC).replace(microsecond=0)
    out, filled = [], 0
    for step, size in enumerate(sizes):
        with connection.cursor() as cursor:
            for first in range(filled + 1, size + 1, 1_000_000):
                cursor.execute(FILL, {"envs": [e.pk for e in envs], "n_envs": len(envs),
                                      "end": end, "span": SPAN_DAYS, "first": first,
                                      "last": min(size, first + 999_999)})
            filled = size
            # What autovacuum does after a load, alike for both (it also empties the GIN
            # indexes' pending lists, which would otherwise count as size).
            cursor.execute("VACUUM ANALYZE sync_call")
        rows = _rows(sample_env, step, sample, end)
        batch = settings.SYNC_BATCH_ROWS
        inserted = _write(sample_env, rows, batch)
        unchanged = _write(sample_env, rows, batch)
        days = local_days_of((r["started_at"] for r in rows), org.tzinfo)
        began = time.perf_counter()
        refresh_rollups(sample_env, days)
        rollup = time.perf_counter() - began
        with connection.cursor() as cursor:
            db, table = _sizes(cursor)
        out.append(asdict(Row(
            layout, size, round(db / 2**20 / (size / 1e6), 1),
            round(table / 2**20 / (size / 1e6), 1), round(sample / inserted),
            round(sample / unchanged), round(rollup, 2),
            partitions.partition_count()[1])))
        print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    return out


def run_conversion(calls: int) -> list[dict]:
    """`sync.partitions.convert`'s conversion of an existing plain table of `calls` calls."""
    from datetime import UTC, datetime

    from django.core.management import call_command
    from django.db import connection, transaction

    from portal.models import Environment, Organization
    from sync.partitions.convert import to_partitioned, to_plain

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        to_plain(cursor)
    org = Organization.objects.create(slug="bench", name="Bench", timezone="UTC")
    envs = [Environment.objects.create(organization=org, name=f"env {i}")
            for i in range(ENVIRONMENTS)]
    with connection.cursor() as cursor:
        for first in range(1, calls + 1, 1_000_000):
            cursor.execute(FILL, {"envs": [e.pk for e in envs], "n_envs": len(envs),
                                  "end": datetime.now(UTC), "span": SPAN_DAYS, "first": first,
                                  "last": min(calls, first + 999_999)})
        cursor.execute("VACUUM ANALYZE sync_call")
    began, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic(), connection.cursor() as cursor:
        copied = to_partitioned(cursor)
    seconds = time.perf_counter() - began
    return [{"calls": copied, "seconds": round(seconds, 1),
             "seconds_per_million": round(seconds / (copied / 1e6), 1),
             "client_cpu_s": round(time.process_time() - cpu, 2)}]


# --- parent ----------------------------------------------------------------------------------

def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_database_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def measure(max_calls: int = SIZES[-1], sample: int = 20_000, keep: bool = False,
            base_url: str | None = None, layouts: tuple[str, ...] = LAYOUTS) -> list[Row]:
    """Every layout at every size up to `max_calls`; one child process per layout."""
    base_url = base_url or os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server")
    prefix = urlsplit(base_url).path.strip("/") or "switchboard"
    sizes = [s for s in SIZES if s <= max_calls]
    rows: list[Row] = []
    for layout in layouts:
        name = f"{prefix}_bench_{layout}"
        _admin(base_url, f'DROP DATABASE IF EXISTS "{name}"')
        _admin(base_url, f'CREATE DATABASE "{name}"')
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", layout, "--sizes",
                 ",".join(map(str, sizes)), "--sample", str(sample)],
                env={**os.environ, "DATABASE_URL": _database_url(base_url, name)},
                stdout=subprocess.PIPE, check=True, text=True)
            rows += [Row(**r) for r in json.loads(done.stdout)]
        finally:
            if not keep:
                _admin(base_url, f'DROP DATABASE IF EXISTS "{name}"')
    return rows


def measure_conversion(calls: int, base_url: str | None = None) -> dict:
    """Seconds `sync.partitions.convert` takes to convert a plain table of `calls` calls."""
    base_url = base_url or os.environ.get("DATABASE_URL", "")
    name = f"{urlsplit(base_url).path.strip('/') or 'switchboard'}_bench_convert"
    _admin(base_url, f'DROP DATABASE IF EXISTS "{name}"')
    _admin(base_url, f'CREATE DATABASE "{name}"')
    try:
        done = subprocess.run([sys.executable, __file__, "--child", "convert", "--sizes",
                               str(calls)],
                              env={**os.environ, "DATABASE_URL": _database_url(base_url, name)},
                              stdout=subprocess.PIPE, check=True, text=True)
        return json.loads(done.stdout)[0]
    finally:
        _admin(base_url, f'DROP DATABASE IF EXISTS "{name}"')


def print_table(rows: list[Row]) -> None:
    head = (f"{'calls':>11} | {'layout':<11} | {'DB MB/M':>8} | {'calls MB/M':>10} | "
            f"{'insert/s':>8} | {'unchanged/s':>11} | {'rollup 7d s':>11} | {'leaves':>6}")
    print(head)
    print("-" * len(head))
    for r in sorted(rows, key=lambda r: (r.calls, r.layout)):
        print(f"{r.calls:>11,} | {r.layout:<11} | {r.db_mb_per_million:>8,.0f} | "
              f"{r.table_mb_per_million:>10,.0f} | {r.insert_per_s:>8,} | "
              f"{r.unchanged_per_s:>11,} | {r.rollup_s:>11.2f} | {r.partitions:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max", type=int, default=SIZES[-1],
                        help="largest size to reach (1000000 for a quicker run)")
    parser.add_argument("--sample", type=int, default=20_000,
                        help="calls written through the sync's path at each size")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--convert", type=int, metavar="CALLS",
                        help="instead: time the conversion of CALLS plain calls")
    parser.add_argument("--layouts", default=",".join(LAYOUTS),
                        help="which layouts, comma-separated (default: partitioned)")
    parser.add_argument("--child", choices=(*LAYOUTS, "convert"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _setup(os.environ["DATABASE_URL"])
        sizes = [int(s) for s in args.sizes.split(",")]
        print(json.dumps(run_conversion(sizes[0]) if args.child == "convert"
                         else run_layout(args.child, sizes, args.sample)))
        return
    if args.convert:
        row = measure_conversion(args.convert)
        print(f"{'calls':>11} | {'conversion s':>12} | {'s per million':>13}")
        print(f"{row['calls']:>11,} | {row['seconds']:>12} | {row['seconds_per_million']:>13}")
        return
    layouts = tuple(x for x in args.layouts.split(",") if x in LAYOUTS)
    print_table(measure(args.max, args.sample, args.keep, layouts=layouts))


if __name__ == "__main__":
    main()
