"""Sync throughput: back-fill a fresh database from the simulator and compare with the fetch floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_sync_bench \
        python bench/sync_throughput.py [--calls 200000] [--days 90]

The simulator runs in its own process (`manage.py simulate_upstream`), so the figures are the
sync's own. Three child processes, each measuring its own peak RSS: a warm-up fetch (the
simulator generates and caches the data set), the fetch floor (the same /calls pages, per
day and page as the sync reads them, fetched and JSON-parsed, nothing stored), then the sync
of agents and calls into the flushed database (calls bulk-upserted, rollups refreshed per
day). A last child measures the database alone: the mirrored calls copied by one INSERT into
an empty twin of the calls table, the ceiling for any sync on this machine. Prints one table.
The database is flushed first: only use a database made for this.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "talq_benchbenchbenchbench0000000001"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["DEBUG"] = "false"  # DEBUG keeps every query in memory
    os.environ.setdefault("SECRET_KEY", "bench-not-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("UPSTREAM_ALLOWED_HOSTS", "127.0.0.1")  # the simulator is local
    import django

    django.setup()


def phase_fetch(base_url: str, first: date, last: date) -> dict:
    setup_django()
    from sync.providers.talkover.client import TalkoverClient

    client = TalkoverClient(base_url, TOKEN)
    calls, start = 0, time.perf_counter()
    day = first
    while day <= last:
        page_no = 1
        while True:
            page = client.calls_page(day, page_no)
            calls += len(page.items)
            if page_no >= page.last_page or not page.items:
                break
            page_no += 1
        day += timedelta(days=1)
    seconds = time.perf_counter() - start
    return {"calls": calls, "seconds": seconds, "requests": client.requests,
            "rss_mb": peak_rss_mb()}


def phase_sync(base_url: str, first: date, last: date) -> dict:
    setup_django()
    from portal.models import Environment, Organization
    from sync.engine import sync_environment
    from sync.models import Call

    org = Organization.objects.create(slug="bench", name="Bench", timezone="America/Sao_Paulo")
    env = Environment(organization=org, name="bench", base_url=base_url,
                      requests_per_minute=1_000_000, backfill_days=(last - first).days + 1)
    env.set_token(TOKEN)
    env.save()
    now = datetime.combine(last, datetime.max.time(), UTC).replace(microsecond=0)
    start = time.perf_counter()
    outcome = sync_environment(env, streams=["agents", "calls"], now=now)
    seconds = time.perf_counter() - start
    calls_run = outcome.runs[-1]
    if outcome.failed:
        raise SystemExit(f"sync failed: {[r.error for r in outcome.runs]}")
    return {"calls": Call.objects.filter(environment=env).count(), "seconds": seconds,
            "requests": sum(r.requests for r in outcome.runs), "created": calls_run.created,
            "rss_mb": peak_rss_mb()}


def phase_ceiling(base_url: str, first: date, last: date) -> dict:
    """What PostgreSQL alone needs to store the mirrored calls: every row copied, in one
    statement, into an empty twin of the calls table (same indexes, same foreign keys). No
    HTTP, no Python per row: no sync on this machine and schema can be faster than this."""
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
        cursor.execute("DROP TABLE IF EXISTS bench_ceiling")
        cursor.execute("CREATE TABLE bench_ceiling (LIKE sync_call INCLUDING ALL)")
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'sync_call'::regclass AND contype = 'f'")
        for (definition,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE bench_ceiling ADD {definition}")
        start = time.perf_counter()
        cursor.execute("INSERT INTO bench_ceiling SELECT * FROM sync_call")
        calls = cursor.rowcount
        seconds = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_ceiling")
    return {"calls": calls, "seconds": seconds, "requests": 0, "rss_mb": peak_rss_mb()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child(phase: str, base_url: str, first: date, last: date) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--base-url", base_url,
         "--first", first.isoformat(), "--last", last.isoformat()],
        capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"phase {phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200_000, help="about this many calls")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--phase", choices=["fetch", "sync", "ceiling"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--last", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run = {"fetch": phase_fetch, "sync": phase_sync, "ceiling": phase_ceiling}[args.phase]
        print(json.dumps(run(args.base_url, args.first, args.last)))
        return

    db = os.environ.get("DATABASE_URL", "")
    if "bench" not in db:
        raise SystemExit("Set DATABASE_URL to a database made for this benchmark (its name "
                         "must contain 'bench'): it is flushed.")
    from cryptography.fernet import Fernet

    # The children run with DEBUG off (no query log), which requires production keys.
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, cwd=ROOT)
    subprocess.run([sys.executable, "manage.py", "createcachetable"], check=True, cwd=ROOT)
    subprocess.run([sys.executable, "manage.py", "flush", "--no-input", "-v0"], check=True,
                   cwd=ROOT)
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)
    # Weekends are quieter in the simulator: scale so the whole set is close to --calls.
    per_day = max(1, round(args.calls / args.days / 0.87))
    port = free_port()
    sim = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_upstream", "--port", str(port), "--days",
         str(args.days), "--calls-per-day", str(per_day), "--end-date", last.isoformat(),
         "--token", TOKEN], cwd=ROOT, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        child("fetch", base_url, first, last)  # warm-up: the simulator builds its data
        floor = child("fetch", base_url, first, last)
        synced = child("sync", base_url, first, last)
    finally:
        sim.terminate()
        sim.wait(30)
    ceiling = child("ceiling", base_url, first, last)
    floor_rate = floor["calls"] / floor["seconds"]
    sync_rate = synced["calls"] / synced["seconds"]
    rows = [
        ("fetch floor", floor["calls"], floor["requests"], floor["seconds"], floor_rate,
         floor["rss_mb"]),
        ("sync (agents+calls)", synced["calls"], synced["requests"], synced["seconds"],
         sync_rate, synced["rss_mb"]),
        ("database insert only", ceiling["calls"], 0, ceiling["seconds"],
         ceiling["calls"] / ceiling["seconds"], ceiling["rss_mb"]),
    ]
    print(f"{'phase':<22}{'calls':>10}{'requests':>10}{'seconds':>10}{'calls/s':>10}"
          f"{'peak RSS MB':>13}")
    for name, calls, reqs, secs, rate, rss in rows:
        print(f"{name:<22}{calls:>10}{reqs:>10}{secs:>10.1f}{rate:>10.0f}{rss:>13.0f}")
    print(f"sync/floor ratio: {sync_rate / floor_rate:.2f}  (days {args.days}, "
          f"{per_day} calls/day requested, database {db.rsplit('/', 1)[-1]})")
    print(f"database-only/floor ratio: {ceiling['calls'] / ceiling['seconds'] / floor_rate:.2f}"
          f"  (the most any sync could reach here: PostgreSQL storing the rows, nothing else)")


if __name__ == "__main__":
    main()
