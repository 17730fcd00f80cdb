"""Fleet: N environments x M calls on K worker hosts, then calls storage as the mirror grows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_fleet_bench \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/fleet.py [--environments 200] [--calls 1000] [--days 7] \\
            [--workers 2] [--concurrency 2] [--steady 120] [--storage-max 10000000]

Needs PostgreSQL and Redis. The database DATABASE_URL names (its name must contain "bench")
is dropped and created (and dropped at the end unless `--keep`), and REDIS_URL's db is flushed
before and after: use ones made for this. As root, the
K worker hosts are network namespaces on a bridge (`tests/support/fleet_net.py`), else plain
processes. Each host runs one Procfile worker on every queue (`--concurrency` processes);
the beat runs on host 0 with the dispatcher every 10 s. The simulator (in this process)
serves N Talkover environments of mixed sizes (`tests/support/fleet.py`: every 10th is 50 times a
small one, two in ten 10 times) averaging M calls over `--days` days, each token at the
production request budget (90 a minute).

Fleet rows: time from the beat's start until every environment has back-filled; requests per
environment for it; database and calls-table size per million calls; then `--steady` seconds
with every environment due each minute (incremental syncs): the p95 and worst age of
"last synced" sampled every 2 s, and requests per incremental sync. Storage rows: insert
rate, re-merge rate and rollup refresh at 100k / 1M / 10M calls, partitioned and plain, from
`bench/partition_storage.py` (`measure`) when this build has it (`--storage-max 0` skips it;
it needs disk: about 15 GB at 10M). Wall-clock figures on a shared machine are indicative.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)
import psycopg  # noqa: E402
import redis  # noqa: E402

from sync.simulator import Simulator  # noqa: E402
from tests.support.fleet import FleetSpec  # noqa: E402
from tests.support.fleet_net import fleet_hosts  # noqa: E402
from tests.support.processes import Processes, manage, procfile, production_env, wait_for  # noqa: E402

SIZE_FACTOR = (50 + 2 * 10 + 7 * 1) / 10  # mean size of an environment, in small ones


def _url(base: str, name: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path="/" + name))


def _fresh_database(url: str) -> None:
    name = urlsplit(url).path.strip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: DATABASE_URL must name a *bench* database")
    with psycopg.connect(_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def group_cpu(pgids: list[int]) -> float:
    """CPU seconds (user + system) used so far by every live process of these groups."""
    total = 0
    for process in Path("/proc").glob("[0-9]*"):
        try:
            fields = benchkit.proc_stat(process.name)
        except OSError:
            continue
        if int(fields[2]) in pgids:
            total += int(fields[11]) + int(fields[12])
    return total / benchkit.CLOCK_TICKS


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else (values or [0])[0]


def run_fleet(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str]]:
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    _fresh_database(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    end = (datetime.now(UTC) - timedelta(days=1)).date()
    per_day = max(1, round(args.calls / args.days / SIZE_FACTOR))
    spec = FleetSpec(args.environments, per_day, args.days, end.isoformat(),
                     requests_per_window=90)
    sim = Simulator(spec.config())
    rows: list[tuple[str, str]] = []
    with fleet_hosts(args.workers, {5432: 5432, 6379: 6379}) as hosts:
        server = sim.serve(hosts.gateway, 0)
        spec.base_url = server.talkover_url
        local = production_env(database_url, redis_url, tmp, UPSTREAM_ALLOWED_HOSTS=hosts.gateway,
                               SYNC_DISPATCH_SECONDS="10", SYNC_CONCURRENCY=str(args.concurrency))
        remote = {**local, "DATABASE_URL": hosts.service_url(database_url),
                  "REDIS_URL": hosts.service_url(redis_url)}
        procs = Processes(tmp, remote)
        db = psycopg.connect(database_url, autocommit=True)

        def value(sql: str, *params: object):
            return db.execute(sql, params).fetchone()[0]

        try:
            manage(local, "migrate", "--no-input")
            spec.run("seed", local)
            command = procfile()["worker"].replace("--queues sync",
                                                   "--queues backfill,sync,alerts,email")
            for i in range(args.workers):
                procs.start(f"h{i}", hosts.wrap(i, ["sh", "-c", command.replace(
                    "%h", f"fleet-h{i}")]))
            wait_for(lambda: all(" ready" in procs.log(f"h{i}") for i in range(args.workers)),
                     120, "the workers")
            workers = [procs.running[f"h{i}"].pid for i in range(args.workers)]
            cpu_before = group_cpu(workers)
            started = time.monotonic()
            procs.start("beat", hosts.wrap(0, ["sh", "-c", procfile()["beat"]]))
            wait_for(lambda: value("SELECT count(*) FROM portal_environment WHERE "
                                   "last_synced_at IS NULL") == 0, 7200, "the back-fills", 1.0)
            converge = time.monotonic() - started
            backfill_cpu = group_cpu(workers) - cpu_before
            backfill_requests = server.request_count
            calls = value("SELECT count(*) FROM sync_call")
            db_mb = value("SELECT pg_database_size(current_database())") / 2**20
            calls_mb = value(f"SELECT {benchkit.CALLS_TABLE_BYTES}") / 2**20
            rows += [
                ("hosts", f"{args.workers} x {args.concurrency} processes "
                          f"({'network namespaces' if hosts.isolated else 'plain processes'})"),
                ("environments x calls", f"{args.environments} x {calls / args.environments:,.0f}"
                                         f" = {calls:,} calls over {args.days} days"),
                ("time to converge (back-fill)", f"{converge:,.1f} s"),
                ("back-fill requests per environment",
                 f"{backfill_requests / args.environments:,.1f}"),
                ("worker CPU per 1,000 back-filled calls", f"{backfill_cpu / calls * 1e3:.2f} s"),
                ("database MB per million calls", f"{db_mb / calls * 1e6:,.0f}"),
                ("calls table MB per million calls", f"{calls_mb / calls * 1e6:,.0f}"),
            ]
            if args.steady:
                rows += _steady(args, db, server, workers)
        finally:
            procs.stop_all()
            server.stop()
            db.close()
            redis.Redis.from_url(redis_url).flushdb()
    if not args.keep:
        with psycopg.connect(_url(database_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(database_url).path.strip("/")}" '
                         "WITH (FORCE)")
    return rows


def _steady(args: argparse.Namespace, db: psycopg.Connection, server,
            workers: list[int]) -> list[tuple[str, str]]:
    """Every environment due each minute for `args.steady` seconds: how stale they get."""
    cpu_before = group_cpu(workers)
    db.execute("UPDATE portal_environment SET sync_interval_minutes = 1, next_sync_at = now()")
    since = datetime.now(UTC)
    before_requests = server.request_count
    ages: list[float] = []
    started = time.monotonic()
    while time.monotonic() - started < args.steady:
        time.sleep(2)
        if time.monotonic() - started > 60:  # once every environment had its first turn
            ages += [float(a) for (a,) in db.execute(
                "SELECT extract(epoch FROM now() - last_synced_at) FROM portal_environment")]
    runs = db.execute("SELECT count(*) FROM sync_syncrun WHERE stream = 'calls' AND trigger = "
                      "'schedule' AND status = 'succeeded' AND started_at > %s",
                      (since,)).fetchone()[0]
    requests = server.request_count - before_requests
    cpu = group_cpu(workers) - cpu_before
    return [
        (f"incremental syncs in {args.steady} s (each due every minute)", f"{runs:,}"),
        ("requests per incremental sync", f"{requests / max(runs, 1):,.1f}"),
        ("worker CPU per incremental sync (with its alert evaluation)",
         f"{cpu / max(runs, 1):.3f} s"),
        ("last-synced age p95 / worst", f"{_p95(ages):,.0f} s / {max(ages, default=0):,.0f} s"),
    ]


def storage_rows(max_calls: int) -> tuple[list[dict], str]:
    """`bench/partition_storage.py`'s rows, or why there are none."""
    path = ROOT / "bench" / "partition_storage.py"
    if max_calls <= 0:
        return [], "skipped (--storage-max 0)"
    if not path.exists():
        return [], "bench/partition_storage.py is not in this build"
    spec = importlib.util.spec_from_file_location("partition_storage", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [asdict(r) for r in module.measure(max_calls=max_calls)], ""


def print_table(fleet: list[tuple[str, str]], storage: list[dict], note: str) -> None:
    width = max(len(k) for k, _ in fleet) if fleet else 30
    print(f"{'fleet':<{width}} | value")
    print("-" * (width + 40))
    for key, val in fleet:
        print(f"{key:<{width}} | {val}")
    print("-" * (width + 40))
    if not storage:
        print(f"{'calls storage':<{width}} | {note}")
        return
    widths = {c: max(len(c), 12) for c in storage[0]}
    print("calls storage (bench/partition_storage.py)")
    print(" | ".join(f"{c:>{w}}" for c, w in widths.items()))
    for row in sorted(storage, key=lambda r: (r.get("calls", 0), r.get("layout", ""))):
        print(" | ".join(f"{v:>{w},}" if isinstance(v, int) else
                         f"{v:>{w},.2f}" if isinstance(v, float) else f"{v:>{w}}"
                         for v, w in zip(row.values(), widths.values(), strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--environments", type=int, default=200)
    parser.add_argument("--calls", type=int, default=1000, help="average per environment")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="worker hosts")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    parser.add_argument("--steady", type=int, default=120,
                        help="seconds of incremental syncs after the back-fill (0: none)")
    parser.add_argument("--storage-max", type=int, default=10_000_000,
                        help="largest calls table for the storage rows (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the fleet database")
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name, "").startswith(("postgres", "redis")):
            raise SystemExit(f"{name} must point at the PostgreSQL / Redis to use")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        fleet = run_fleet(args, Path(tmp))
    storage, note = storage_rows(args.storage_max)
    print_table(fleet, storage, note)


if __name__ == "__main__":
    main()
