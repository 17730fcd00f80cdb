"""What the benchmark scripts share: Django set up as production runs it, a fresh database,
waiting for a server, a process's CPU from /proc, the percentile the tables print. Imported
by name (`import benchkit`): a script run as `python bench/<name>.py` has this folder first
on its path."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# The calls table with its indexes, partitions included (a partitioned parent holds nothing).
CALLS_TABLE_BYTES = ("COALESCE((SELECT sum(pg_total_relation_size(relid))::bigint "
                     "FROM pg_partition_tree('sync_call'::regclass)), "
                     "pg_total_relation_size('sync_call'))")


def production_settings(upstream_hosts: str = "127.0.0.1,localhost", debug: bool = False
                        ) -> None:
    """DEBUG off (DEBUG keeps every query in memory), which needs production's keys: made-up
    ones unless the environment gives them. The simulator listens on loopback over http,
    which production refuses unless the host is listed (as a deployment lists its own)."""
    os.environ["DEBUG"] = "true" if debug else "false"
    os.environ.setdefault("SECRET_KEY", "bench-not-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    if "FIELD_ENCRYPTION_KEYS" not in os.environ:
        from cryptography.fernet import Fernet

        os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    os.environ.setdefault("UPSTREAM_ALLOWED_HOSTS", upstream_hosts)


def setup_django() -> None:
    """The project importable, DATABASE_URL's database there and migrated, Django set up in
    this process: each script's usage line works as written on a fresh machine."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def create_database() -> None:
    """DATABASE_URL's PostgreSQL database, created when it does not exist yet."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.strip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def fresh_database() -> None:
    """DATABASE_URL's database (created when missing) migrated, with the cache table, and
    emptied."""
    create_database()
    for command in (["migrate", "-v0"], ["createcachetable"], ["flush", "--no-input", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], check=True, cwd=ROOT)


def wait_for_health(port: int, tries: int = 300) -> None:
    """Until the server on `port` answers /healthz (at most `tries` × 0.1 s)."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)


def proc_stat(pid: int | str) -> list[str]:
    """/proc/<pid>/stat's fields after the command's name: [1] the parent, [2] the process
    group, [11] to [14] user and system ticks, its own then its reaped children's. OSError once
    the process has ended."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.95 = p95): a value that was measured, never
    one interpolated between two runs."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def print_beside_calls(calls: list[float], report: list[float], name: str) -> None:
    """A report's latencies beside the cold calls report's (ms), p50 and p95, then their p50
    ratio against the 2× target every report bench holds to."""
    import statistics  # noqa: PLC0415  (only the report benches need it)

    print(f"{'report':<28} | {'p50':>8} | {'p95':>8}")
    print(f"{'-' * 28}-+-{'-' * 8}-+-{'-' * 8}")
    for label, values in (("calls report (cold)", calls), (name, report)):
        print(f"{label:<28} | {statistics.median(values):>8.1f} | "
              f"{percentile(values, 0.95):>8.1f}")
    ratio = statistics.median(report) / statistics.median(calls)
    print(f"{name.split()[0]} / calls (p50): {ratio:.2f}x — target <= 2x: "
          f"{'met' if ratio <= 2 else 'MISSED'}")

