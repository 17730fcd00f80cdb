"""Sync throughput: back-fill a fresh database from the simulator and compare with the fetch floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_sync_bench \
    REDIS_URL=redis://127.0.0.1:6379/12 \
        python bench/sync_throughput.py [--calls 200000] [--days 90] [--rounds 3] \
            [--dlt-python PATH] [--statements]

REDIS_URL is optional: with it the sync's request-budget tickets go to Redis, as in
production; without it they go to the database cache, which adds some of the database's time.

The simulator runs in its own process (`manage.py simulate_upstream`), so the figures are the
sync's own. Child processes, each measuring its own peak RSS and its RSS before the work
(after its imports): a warm-up fetch (the simulator generates and caches the data set), the
fetch floor (the same /calls pages, per day and page as the sync reads them, fetched and
JSON-parsed, nothing stored), the sync of agents and calls into the flushed database (calls
upserted a batch at a time, rollups refreshed per day), and — when a Python with dlt is
given (`--dlt-python`, default /work/dltvenv/bin/python when it exists; see
bench/dlt_baseline.py for making it) — dlt doing the same back-fill into a database named
like ours plus "_dlt" (created and dropped here). A last child measures the database alone:
the mirrored calls copied by one INSERT into an empty twin of the calls table (same
indexes), the floor of any sync storing these rows in this schema, then into a twin without
the search GIN, which is built once after the rows (the floor even with that index built per
month instead of entry by entry); with dlt, it prints the best sync/dlt each floor allows
beside our app CPU. Prints one table, then
where the sync's database CPU went by step (`WriteShare`: the merge, the next contacts given
in the staging table, the resolution statements) and how many calls it rewrote by UPDATE
(HOT or not, from the database's statistics), the calls table's bytes per call by part
(heap, TOAST, each index), and with dlt, ours against dlt's round by round: wall, client
CPU, PostgreSQL CPU, total and bytes per call, each as median (min-max), and the per-round
ratio. `--statements`: the last round's database CPU statement by statement
(`StatementShare`).
The database is flushed first: only use a database made for this.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import benchkit  # bench/benchkit.py: what the benchmark scripts share

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "talq_benchbenchbenchbench0000000001"


DEFAULT_DLT_PYTHON = Path("/work/dltvenv/bin/python")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's resident memory now (Linux), MB."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default), from /proc (Linux)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds of every PostgreSQL backend serving this database while a phase runs
    (the sync writes from a thread with its own connection): sampled from /proc, summed."""

    def __init__(self, database: str) -> None:
        import psycopg

        self.conn = psycopg.connect(database, autocommit=True)
        self.own = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.sample(initial=True)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def sample(self, initial: bool = False) -> None:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> %s", (self.own,)).fetchall()
        for (pid,) in rows:
            try:
                used = cpu_seconds(pid)
            except OSError:
                continue
            self.first.setdefault(pid, used if initial else 0.0)  # new ones started at 0
            self.last[pid] = used

    def _run(self) -> None:
        while not self.done.wait(0.2):
            self.sample()

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        self.conn.close()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def setup_django() -> None:
    benchkit.production_settings()
    benchkit.setup_django()


def phase_fetch(base_url: str, first: date, last: date) -> dict:
    setup_django()
    from sync.providers.talkover.client import TalkoverClient

    client = TalkoverClient(base_url, TOKEN)
    started_mb = current_rss_mb()
    calls, start, cpu = 0, time.perf_counter(), cpu_seconds()
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
            "rss_mb": peak_rss_mb(), "start_mb": started_mb, "cpu": cpu_seconds() - cpu}


class LinkShare:
    """The CPU the callback link's own work takes inside a back-fill, attributed where it
    runs: every call of `relink_written` (the relink statement, its old-links read and the
    link table's triggers) and `refresh_outbound_days` is wrapped, and its thread's CPU and
    its database backend's CPU (/proc, clock ticks) are summed: pairs of whole back-fills
    with and without the link would drown it in a loaded machine's noise, this does not."""

    def __init__(self) -> None:
        from sync import callback_links
        from sync.write import rollups, upsert

        self.python = self.db = 0.0
        self.calls = 0
        upsert.relink_written = self.wrap(upsert.relink_written)
        rollups.refresh_outbound_days = self.wrap(rollups.refresh_outbound_days)
        callback_links.refresh_outbound_days = self.wrap(callback_links.refresh_outbound_days)

    def wrap(self, fn):
        from django.db import connection

        def measured(*args, **kwargs):
            connection.ensure_connection()
            backend = connection.connection.info.backend_pid
            py, db = time.thread_time(), cpu_seconds(backend)
            try:
                return fn(*args, **kwargs)
            finally:
                self.python += time.thread_time() - py
                self.db += cpu_seconds(backend) - db
                self.calls += 1

        return measured


class WriteShare:
    """The database CPU of a back-fill's calls writes, by step, attributed where each runs
    (each step's backend CPU from /proc, summed over the writer threads): the merge (the
    COPY into the staging table and the INSERT … ON CONFLICT, with what it runs before the
    merge), the next contacts given in the staging table before it (`settle_staged`) and the
    resolution statements after it (`settle_written`). A step the code lacks stays 0."""

    STEPS = {"merge": "copy_upsert", "staged": "settle_staged", "settle": "settle_written"}

    def __init__(self) -> None:
        from sync.write import upsert

        self.db = dict.fromkeys(self.STEPS, 0.0)
        for step, name in self.STEPS.items():
            if hasattr(upsert, name):
                setattr(upsert, name, self.wrap(step, getattr(upsert, name)))

    def wrap(self, step: str, fn):
        from django.db import connection

        def measured(*args, **kwargs):
            connection.ensure_connection()
            backend = connection.connection.info.backend_pid
            db = cpu_seconds(backend)
            try:
                return fn(*args, **kwargs)
            finally:
                self.db[step] += cpu_seconds(backend) - db

        return measured

    def figures(self) -> dict:
        """Database CPU s per step; the merge's without the staged step it runs."""
        return {"db_merge": self.db["merge"] - self.db["staged"],
                "db_staged": self.db["staged"], "db_settle": self.db["settle"]}


class StatementShare:
    """Where the database's CPU goes statement by statement (the machine's PostgreSQL has no
    `pg_stat_statements` preloaded): every statement the sync runs through Django's cursors,
    in any thread, timed by its backend's CPU (/proc, clock ticks: exact over many
    statements, coarse over one) and wall, keyed by its text with the literals and the
    partitions' names folded. COPY runs on the driver's cursor: what no statement holds is
    printed as the rest (COPY, commits, autovacuum's share of this database)."""

    def __init__(self) -> None:
        from django.db.backends import utils

        self.by: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.original = utils.CursorWrapper._execute
        share = self

        def measured(wrapper, sql, params, *rest):
            backend = wrapper.db.connection.info.backend_pid
            db, wall = cpu_seconds(backend), time.perf_counter()
            try:
                return share.original(wrapper, sql, params, *rest)
            finally:
                share.add(sql, cpu_seconds(backend) - db, time.perf_counter() - wall)

        utils.CursorWrapper._execute = measured

    def add(self, sql: str, cpu: float, wall: float) -> None:
        import re

        key = re.sub(r"\s+", " ", sql).strip()
        key = re.sub(r"sync_call_[0-9_a-z]+", "sync_call_<p>", key)
        key = re.sub(r"'[^']*'|\b\d+\b", "?", key)[:110]
        with self.lock:
            found = self.by.setdefault(key, [0, 0.0, 0.0])
            found[0] += 1
            found[1] += cpu
            found[2] += wall

    def figures(self) -> list[tuple[str, int, float, float]]:
        return sorted(((k, int(n), c, w) for k, (n, c, w) in self.by.items()),
                      key=lambda row: -row[2])


def phase_sync(base_url: str, first: date, last: date) -> dict:
    setup_django()
    from django.db import connection

    from portal.models import Environment, Organization
    from sync.engine import sync_environment
    from sync.models import Call, CallbackLink

    org = Organization.objects.create(slug="bench", name="Bench", timezone="America/Sao_Paulo")
    env = Environment(organization=org, name="bench", base_url=base_url,
                      requests_per_minute=1_000_000, backfill_days=(last - first).days + 1)
    env.set_token(TOKEN)
    env.save()
    now = datetime.combine(last, datetime.max.time(), UTC).replace(microsecond=0)
    connection.ensure_connection()
    share = LinkShare()
    steps = WriteShare()
    statements = StatementShare() if os.environ.get("BENCH_STATEMENTS") else None
    started_mb = current_rss_mb()
    updates = _call_updates(wait=False)
    backends = BackendCpu(os.environ["DATABASE_URL"])
    cpu = cpu_seconds()
    start = time.perf_counter()
    outcome = sync_environment(env, streams=["agents", "calls"], now=now)
    seconds = time.perf_counter() - start
    cpu, db_cpu = cpu_seconds() - cpu, backends.stop()
    calls_run = outcome.runs[-1]
    if outcome.failed:
        raise SystemExit(f"sync failed: {[r.error for r in outcome.runs]}")
    with connection.cursor() as cursor:
        # What the mirrored calls occupy: the table with its indexes, and the indexes alone.
        cursor.execute(f"SELECT {benchkit.CALLS_TABLE_BYTES}, (SELECT sum(pg_indexes_size("
                       f"relid))::bigint FROM pg_partition_tree('sync_call'::regclass))")
        table_bytes, index_bytes = cursor.fetchone()
        parts = _calls_parts(cursor)
    return {"calls": Call.objects.filter(environment=env).count(), "seconds": seconds,
            "table_mb": table_bytes / 1e6, "index_mb": (index_bytes or 0) / 1e6,
            "requests": sum(r.requests for r in outcome.runs), "created": calls_run.created,
            "links": CallbackLink.objects.filter(environment=env).count(),
            "link_cpu": share.python, "link_db_cpu": share.db,
            "rss_mb": peak_rss_mb(), "start_mb": started_mb, "cpu": cpu, "db_cpu": db_cpu,
            "parts": parts, "statements": statements.figures() if statements else [],
            **_call_updates(since=updates), **steps.figures()}


def _calls_parts(cursor: Any) -> dict[str, int]:
    """Bytes of the calls table by part, over its partitions: the rows (heap), their TOAST
    (with its index) and each index of the partitioned table by name."""
    cursor.execute(
        "SELECT sum(pg_relation_size(relid)), sum(pg_table_size(relid) - "
        "pg_relation_size(relid) - pg_relation_size(relid, 'fsm') - "
        "pg_relation_size(relid, 'vm')) FROM pg_partition_tree('sync_call'::regclass)")
    heap, toast = cursor.fetchone()
    parts = {"heap": int(heap or 0), "toast": int(toast or 0)}
    cursor.execute(
        "SELECT c.relname, (SELECT sum(pg_relation_size(relid)) FROM "
        "pg_partition_tree(i.indexrelid)) FROM pg_index i JOIN pg_class c "
        "ON c.oid = i.indexrelid WHERE i.indrelid = 'sync_call'::regclass ORDER BY 1")
    parts.update((name, int(size or 0)) for name, size in cursor.fetchall())
    return parts


def _call_updates(*, wait: bool = True, since: dict | None = None) -> dict:
    """Row versions the calls' partitions took by UPDATE in the database's statistics, and
    how many were HOT (less those of `since`): a back-fill's rewrites of rows it wrote. The
    writer threads' connections are closed by then; a backend's figures reach the statistics
    as it exits, so this waits a moment for them (`wait`)."""
    from django.db import connection

    if wait:
        time.sleep(2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_hot_upd), 0) "
                       "FROM pg_stat_user_tables "
                       "WHERE relid IN (SELECT relid FROM pg_partition_tree('sync_call'))")
        updated, hot = cursor.fetchone()
    since = since or {}
    return {"updated_calls": int(updated) - since.get("updated_calls", 0),
            "hot_updates": int(hot) - since.get("hot_updates", 0)}


def phase_ceiling(base_url: str, first: date, last: date) -> dict:
    """What PostgreSQL alone needs to store the mirrored calls: every row copied, in one
    statement, into an empty twin of the calls table (same indexes, same foreign keys). No
    HTTP, no Python per row: no sync on this machine and schema can be faster than this.
    Then the same copy into a twin without the search index, which is built once after the
    rows (`db_cpu_gin_once`, its build alone `db_cpu_gin_build`): the floor even if a
    back-fill built each month's search index once instead of entry by entry."""
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
        cursor.execute("SET synchronous_commit TO OFF")
        start = time.perf_counter()
        calls, db_cpu, _ = _copy_into_twin(cursor, backend, search_after=False)
        seconds = time.perf_counter() - start
        _, rows_cpu, build_cpu = _copy_into_twin(cursor, backend, search_after=True)
    return {"calls": calls, "seconds": seconds, "requests": 0, "rss_mb": peak_rss_mb(),
            "start_mb": 0.0, "db_cpu": db_cpu, "db_cpu_gin_once": rows_cpu + build_cpu,
            "db_cpu_gin_build": build_cpu}


def _copy_into_twin(cursor: Any, backend: int, *, search_after: bool
                    ) -> tuple[int, float, float]:
    """Copy sync_call into an empty twin (its indexes and foreign keys; `search_after`: the
    trigram/full-text GIN left out, then built once over the rows). Returns the rows, the
    backend's CPU seconds for the copy and for the GIN build (0 unless `search_after`)."""
    cursor.execute("DROP TABLE IF EXISTS bench_ceiling")
    cursor.execute("CREATE TABLE bench_ceiling (LIKE sync_call INCLUDING ALL)")
    cursor.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'sync_call'::regclass AND contype = 'f'")
    for (definition,) in cursor.fetchall():
        cursor.execute(f"ALTER TABLE bench_ceiling ADD {definition}")
    cursor.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i "
                   "WHERE i.tablename = 'bench_ceiling' AND i.indexdef LIKE '%USING gin%'")
    search = cursor.fetchall()
    if search_after:
        for name, _ in search:
            cursor.execute(f"DROP INDEX {name}")
    db_cpu = cpu_seconds(backend)
    cursor.execute("INSERT INTO bench_ceiling SELECT * FROM sync_call")
    calls, db_cpu = cursor.rowcount, cpu_seconds(backend) - db_cpu
    build = cpu_seconds(backend)
    if search_after:
        for _, definition in search:
            cursor.execute(definition)
    build = cpu_seconds(backend) - build if search_after else 0.0
    cursor.execute("DROP TABLE bench_ceiling")
    return calls, db_cpu, build


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child(phase: str, base_url: str, first: date, last: date) -> dict:
    """One phase in a child process."""
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--base-url", base_url,
         "--first", first.isoformat(), "--last", last.isoformat()],
        capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"phase {phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def dlt_child(python: Path, base_url: str, first: date, last: date, db: str) -> dict:
    """dlt's back-fill of the same pages (bench/dlt_baseline.py) into `db` + "_dlt"."""
    import psycopg

    url = urlsplit(db)
    name = f"{url.path.lstrip('/')}_dlt"
    admin = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    dlt_url = urlunsplit(url._replace(path=f"/{name}"))
    try:
        # dlt's loads into PostgreSQL count too: its backends' CPU, as ours are counted.
        backends = BackendCpu(dlt_url)
        out = subprocess.run(
            [str(python), str(ROOT / "bench" / "dlt_baseline.py"), "--base-url", base_url,
             "--token", TOKEN, "--first", first.isoformat(), "--last", last.isoformat(),
             "--database-url", dlt_url],
            capture_output=True, text=True, cwd=ROOT / "bench")
        db_cpu = backends.stop()
        if out.returncode:
            raise SystemExit(f"dlt failed:\n{out.stderr[-3000:]}")
        return {**json.loads(out.stdout.strip().splitlines()[-1]), "db_cpu": db_cpu}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def print_link_share(r: dict) -> None:
    """The CPU attributed to the link inside one back-fill (`LinkShare`), against the rest."""
    own = r["link_cpu"] + r["link_db_cpu"]
    rest = r["cpu"] + r["db_cpu"] - own
    print(f"  attributed to the link in a back-fill with it: {r['link_cpu']:.2f} s sync + "
          f"{r['link_db_cpu']:.2f} s db = {own:.2f} s, {own / rest * 100:+.1f} % of the "
          f"rest's {rest:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200_000, help="about this many calls")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--dlt-python", type=Path, help="a Python with dlt installed "
                        f"(default {DEFAULT_DLT_PYTHON} when it exists); 'none' skips dlt")
    parser.add_argument("--rounds", type=int, default=1,
                        help="interleaved rounds (ours and dlt, alternating which goes first); "
                             "the table gives each figure's median")
    parser.add_argument("--statements", action="store_true",
                        help="also time every statement of the sync by its backend's CPU "
                             "(adds a little client CPU)")
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
    dlt_python = args.dlt_python or (DEFAULT_DLT_PYTHON if DEFAULT_DLT_PYTHON.exists()
                                     else None)
    if dlt_python is not None and str(dlt_python) == "none":
        dlt_python = None
    if args.statements:
        os.environ["BENCH_STATEMENTS"] = "1"
    # The children run with DEBUG off (no query log) and inherit these keys.
    benchkit.production_settings()
    benchkit.fresh_database()
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
    rounds: list[dict[str, dict]] = []
    try:
        benchkit.wait_for_health(port, tries=200)
        child("fetch", base_url, first, last)  # warm-up: the simulator builds its data
        for n in range(args.rounds):
            if n:
                benchkit.fresh_database()
            found = {"floor": child("fetch", base_url, first, last)}
            # Interleaved: odd rounds run dlt first, so the machine's load hits both alike.
            order = ["sync", "dlt"] if n % 2 == 0 else ["dlt", "sync"]
            for phase in order:
                if phase == "sync":
                    found["sync"] = child("sync", base_url, first, last)
                elif dlt_python:
                    found["dlt"] = dlt_child(dlt_python, base_url, first, last, db)
            rounds.append(found)
    finally:
        sim.terminate()
        sim.wait(30)
    ceiling = child("ceiling", base_url, first, last)
    header = (f"{'phase':<22}{'calls':>9}{'requests':>10}{'seconds':>9}{'calls/s':>9}"
              f"{'x floor':>9}{'CPU s':>8}{'db CPU s':>10}{'peak RSS MB':>13}"
              f"{'above start':>13}")

    def number(r: dict, key: str, digits: int = 1) -> str:
        return "-" if r.get(key) is None else f"{r[key]:.{digits}f}"

    def line(name: str, r: dict, floor: dict) -> str:
        above = f"{r['rss_mb'] - r['start_mb']:.0f}" if r.get("start_mb") else "-"
        return (f"{name:<22}{r['calls']:>9}{r['requests']:>10}{r['seconds']:>9.1f}"
                f"{r['calls'] / r['seconds']:>9.0f}{r['seconds'] / floor['seconds']:>9.2f}"
                f"{number(r, 'cpu'):>8}{number(r, 'db_cpu'):>10}{r['rss_mb']:>13.0f}"
                f"{above:>13}")

    names = [("floor", "fetch floor"), ("sync", "sync (agents+calls)"),
             ("dlt", "dlt (merge on id)")]
    if len(rounds) > 1:
        for n, found in enumerate(rounds, 1):
            print(f"round {n}")
            print(header)
            for key, name in names:
                if key in found:
                    print(line(name, found[key], found["floor"]))
        print(f"median of {len(rounds)} rounds (each column its own median)")
    median = {key: _median([found[key] for found in rounds]) for key, _ in names
              if key in rounds[0]}
    print(header)
    for key, name in names:
        if key in median:
            print(line(name, median[key], median["floor"]))
    print(line("database insert only", ceiling, median["floor"]))
    print(f"days {args.days}, {per_day} calls/day asked, database {db.rsplit('/', 1)[-1]}, "
          f"load average {os.getloadavg()[0]:.1f}; 'above start': peak RSS less the RSS "
          f"once imported, before the work")
    synced = median["sync"]
    print(f"calls table after the sync: {synced['table_mb']:.0f} MB "
          f"({synced['table_mb'] * 1e6 / synced['calls'] / 1e3:.2f} GB per million calls), "
          f"indexes {synced['index_mb']:.0f} MB "
          f"({synced['index_mb'] / synced['table_mb']:.0%} of it)")
    print("the link in the sync above:")
    print_link_share(synced)
    print(f"its database CPU by step: merge {synced['db_merge']:.1f} s, next contacts in the "
          f"staging table {synced['db_staged']:.1f} s, resolution statements "
          f"{synced['db_settle']:.1f} s; calls rewritten by UPDATE: "
          f"{synced['updated_calls']:.0f} ({synced['hot_updates']:.0f} of them HOT)")
    print_parts(synced, median.get("dlt"))
    print_statements(rounds[-1]["sync"])
    if "dlt" in median:
        dlt = median["dlt"]
        print_versus(rounds)
        print_cpu_per_calls(synced, dlt)
        print_storage_floor(synced, dlt, ceiling)
        ratios = sorted(f["sync"]["seconds"] / f["dlt"]["seconds"] for f in rounds)
        print(f"sync/dlt: time {synced['seconds'] / dlt['seconds']:.2f} (per round "
              f"{', '.join(f'{r:.2f}' for r in ratios)}), peak RSS "
              f"{synced['rss_mb'] / dlt['rss_mb']:.2f}, RSS above start "
              f"{(synced['rss_mb'] - synced['start_mb']) / (dlt['rss_mb'] - dlt['start_mb']):.2f}")


def print_statements(synced: dict, shown: int = 25) -> None:
    """The last round's statements by database CPU (`--statements`), and what none holds."""
    found = synced.get("statements")
    if not found:
        return
    counted = sum(c for _, _, c, _ in found)
    print(f"database CPU by statement (last round; {counted:.2f} s of {synced['db_cpu']:.2f} s "
          f"in statements, the rest COPY, commits and other backends):")
    print(f"{'CPU s':>7}{'wall s':>8}{'calls':>7}  statement")
    for key, n, cpu, wall in found[:shown]:
        print(f"{cpu:>7.2f}{wall:>8.2f}{n:>7}  {key}")


def print_parts(synced: dict, dlt: dict | None = None) -> None:
    """The calls table's bytes per mirrored call by part (the last round's), and dlt's."""
    for who, found in (("calls table", synced), ("dlt's calls table", dlt)):
        if found is not None and found.get("parts"):
            parts = found["parts"]
            print(f"{who} by part, bytes per call: " + ", ".join(
                f"{name} {size / found['calls']:.0f}" for name, size in parts.items()) +
                  f"; total {sum(parts.values()) / found['calls']:.0f}")


def print_versus(rounds: list[dict[str, dict]]) -> None:
    """Ours against dlt's, round by round: each figure's median and range (min-max) for
    both, and of the per-round ratio sync/dlt (the rounds are interleaved, so a ratio
    compares runs under the same load)."""
    def total(r: dict) -> float:
        return r["cpu"] + r["db_cpu"]

    def per_call(r: dict) -> float:
        return r["table_mb"] * 1e6 / r["calls"]

    figures = [("wall s", lambda r: r["seconds"]), ("client CPU s", lambda r: r["cpu"]),
               ("PostgreSQL CPU s", lambda r: r["db_cpu"]), ("total CPU s", total),
               ("bytes per call", per_call)]

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    print(f"{'':<18}{'dlt':>22}{'sync':>22}{'sync/dlt':>22}")
    for name, of in figures:
        theirs = [of(f["dlt"]) for f in rounds]
        ours = [of(f["sync"]) for f in rounds]
        ratios = [of(f["sync"]) / of(f["dlt"]) for f in rounds]
        print(f"{name:<18}{spread(theirs):>22}{spread(ours):>22}{spread(ratios):>22}")


def print_cpu_per_calls(synced: dict, dlt: dict) -> None:
    """App + database CPU seconds per 10,000 mirrored calls, ours beside dlt's (the same run's
    medians): what an operator pays for a back-fill, whatever the machine's load did to the
    wall clock."""
    def per(r: dict) -> tuple[float, float]:
        return r["cpu"] * 10_000 / r["calls"], r["db_cpu"] * 10_000 / r["calls"]

    ours, theirs = per(synced), per(dlt)
    print(f"CPU per 10,000 calls (app + database): sync {ours[0]:.2f} + {ours[1]:.2f} = "
          f"{sum(ours):.2f} s, dlt {theirs[0]:.2f} + {theirs[1]:.2f} = {sum(theirs):.2f} s; "
          f"sync/dlt {sum(ours) / sum(theirs):.2f} (target <= 1)")


def print_storage_floor(synced: dict, dlt: dict, ceiling: dict) -> None:
    """The best CPU per call any back-fill could reach against dlt's in this schema: our app
    CPU plus only the database's cost of storing the rows (the twins of `phase_ceiling`),
    every other step (next contacts, rollups, ANALYZE, links) taken as free."""
    theirs = dlt["cpu"] + dlt["db_cpu"]
    for name, db_cpu in (("search index entry by entry", ceiling["db_cpu"]),
                         ("search index built once", ceiling.get("db_cpu_gin_once"))):
        if db_cpu is not None:
            scale = ceiling["calls"] / synced["calls"]
            print(f"floor, {name}: sync app {synced['cpu']:.1f} s + storing the rows "
                  f"{db_cpu / scale:.1f} s db = sync/dlt "
                  f"{(synced['cpu'] + db_cpu / scale) / theirs:.2f} at best")
    if ceiling.get("db_cpu_gin_build") is not None:
        print(f"  (of which building the search GIN once: {ceiling['db_cpu_gin_build']:.1f} s; "
              f"dlt's whole load: {dlt['cpu']:.1f} s app + {dlt['db_cpu']:.1f} s db)")


def _median(results: list[dict]) -> dict:
    """Each numeric figure's median over the rounds (a column's own median)."""

    out = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, (int, float)) and all(r.get(key) is not None for r in results):
            out[key] = statistics.median(r[key] for r in results)
    return out

if __name__ == "__main__":
    main()
