"""Benchmark: where `make test`'s CPU goes, per test file and kind of test.

    python bench/suite_cpu.py [--workers N] [--top 25] [-- PYTEST ARGS…]

Runs the suite as `make test` does (the test modules' asserts rewritten ahead by
`tests/support/assert_cache.py`, then `pytest -n N --dist loadgroup`, on the embedded
PostgreSQL unless DATABASE_URL is set) with this file loaded in every worker as a pytest
plugin, which reads `getrusage` around each test: the worker's own CPU and that of the
processes it started and waited for (commands, servers, chromium). The machine's busy
core-seconds over the run come from /proc/stat. The suite's PostgreSQL is counted apart: the
script starts the session's embedded server itself, as `tests/support/session_postgres.py`
would (or reads the DATABASE_URL server, when it runs on this machine), and reads its
postmaster's CPU and that of every backend it reaped. What is left is printed as the rest: the
servers the tests start as daemons (`make demo`'s, the replicas', PgBouncer's), chromium's
processes its driver does not reap (about half of chromium's CPU: a renderer's parent is a
zygote killed with the browser), the machine's own daemons. Prints one table per view:
totals, by kind (the folder under tests/), the costliest files, the costliest tests.
The suite is bound by CPU on two cores, so these core-seconds, not one run's wall time (which
moves by a tenth from run to run), are what a change to the suite is measured by.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import benchkit
import pytest

ROOT = benchkit.ROOT
# Set by the script for the workers: where each writes its rows.
OUT = "SUITE_CPU_DIR"


# --- The plugin (in each xdist worker) ------------------------------------------------------

_rows: list[tuple[str, float, float, float]] = []


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    own, children, started = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), \
        time.monotonic()
    yield
    _rows.append((item.nodeid, time.monotonic() - started,
                  _cpu(resource.RUSAGE_SELF) - own, _cpu(resource.RUSAGE_CHILDREN) - children))


def pytest_sessionfinish(session):
    folder = os.environ.get(OUT)
    if folder and os.environ.get("PYTEST_XDIST_WORKER"):
        worker = os.environ["PYTEST_XDIST_WORKER"]
        Path(folder, f"{worker}.json").write_text(json.dumps(
            {"rows": _rows, "own": _cpu(resource.RUSAGE_SELF),
             "children": _cpu(resource.RUSAGE_CHILDREN)}))


# --- The script -----------------------------------------------------------------------------

def _busy_core_seconds() -> float:
    """The machine's CPU time spent outside idle and I/O wait since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int) -> float:
    """CPU of a process, of the children it reaped and of those alive now (a postmaster: its
    backends)."""
    total = sum(int(v) for v in benchkit.proc_stat(pid)[11:15])
    for process in Path("/proc").glob("[0-9]*"):
        try:
            fields = benchkit.proc_stat(process.name)
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / benchkit.CLOCK_TICKS


def _postmaster(url: str) -> int | None:
    """The PID of the server behind `url` when it runs on this machine (a backend's parent)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        status = Path(f"/proc/{backend}/status").read_text()
    except OSError:  # another machine's, or a container's
        return None
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("PPid:")))


def _table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def _kind(nodeid: str) -> str:
    parts = nodeid.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="xdist workers (default: cores + 1, as `make test`)")
    parser.add_argument("--top", type=int, default=25, help="files and tests listed")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from portal import embedded_db

    data = None
    if not os.environ.get("DATABASE_URL"):  # the server session_postgres would start
        data = embedded_db.scratch_dir("switchboard-test-pg-") / "data"
    try:
        url = (embedded_db.ensure_running_or_exit(data, fast=True) if data
               else os.environ["DATABASE_URL"])
        postmaster = _postmaster(url)
        server = _tree_cpu(postmaster) if postmaster else 0.0
        with tempfile.TemporaryDirectory(prefix="suite-cpu-") as folder:
            env = {**os.environ, OUT: folder, "DATABASE_URL": url,
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bench"),
                                                               os.environ.get("PYTHONPATH")]))}
            busy, started = _busy_core_seconds(), time.monotonic()
            ahead = _cpu(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "tests.support.assert_cache"], cwd=ROOT,
                           check=True)  # as `make test` does first
            pytest_cpu = _cpu(resource.RUSAGE_CHILDREN)
            ahead = pytest_cpu - ahead
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-n", str(args.workers), "--dist",
                 "loadgroup", "-p", "suite_cpu", "-q", *args.pytest_args], cwd=ROOT, env=env,
                check=False)
            wall, busy = time.monotonic() - started, _busy_core_seconds() - busy
            pytest_cpu = _cpu(resource.RUSAGE_CHILDREN) - pytest_cpu  # workers' and theirs
            server = _tree_cpu(postmaster) - server if postmaster else None
            workers = [json.loads(p.read_text()) for p in Path(folder).glob("*.json")]
    finally:
        if data:
            embedded_db.stop(data)
            shutil.rmtree(data.parent, ignore_errors=True)
    rows = [tuple(r) for w in workers for r in w["rows"]]
    own = sum(r[2] for r in rows)
    children = sum(r[3] for r in rows)
    # Each worker's start and collection, and what it started outside a test.
    outside = sum(w["own"] + w["children"] for w in workers) - own - children
    controller = pytest_cpu - sum(w["own"] + w["children"] for w in workers)
    _table("Totals (core-seconds)", ("", "seconds"), [
        ("wall", f"{wall:.0f}"), ("machine busy", f"{busy:.0f}"),
        ("workers, in tests", f"{own:.0f}"), ("processes the tests started", f"{children:.0f}"),
        ("workers, outside tests (start, collection)", f"{outside:.0f}"),
        ("pytest's controller", f"{controller:.0f}"),
        ("the test modules' asserts rewritten ahead", f"{ahead:.0f}"),
        ("the suite's PostgreSQL (its backends included)",
         "not on this machine" if server is None else f"{server:.0f}"),
        ("the rest (other servers, chromium's unreaped processes, daemons)",
         f"{busy - own - children - outside - controller - ahead - (server or 0):.0f}"),
        ("tests", str(len(rows)))])
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    by_file: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for nodeid, _wall, test_own, test_children in rows:
        for key, table in ((_kind(nodeid), by_kind), (nodeid.split("::")[0], by_file)):
            table[key][0] += 1
            table[key][1] += test_own
            table[key][2] += test_children

    def listed(table: dict, limit: int | None = None) -> list[tuple]:
        ranked = sorted(table.items(), key=lambda item: -(item[1][1] + item[1][2]))[:limit]
        return [(name, n, f"{a + b:.1f}", f"{a:.1f}", f"{b:.1f}") for name, (n, a, b) in ranked]

    header = ("", "tests", "CPU", "worker", "started")
    _table("By kind", header, listed(by_kind))
    _table(f"The {args.top} costliest files", header, listed(by_file, args.top))
    costliest = sorted(rows, key=lambda r: -(r[2] + r[3]))[:args.top]
    _table(f"The {args.top} costliest tests", ("", "wall", "CPU", "worker", "started"),
           [(nodeid[:110], f"{w:.1f}", f"{a + b:.1f}", f"{a:.1f}", f"{b:.1f}")
            for nodeid, w, a, b in costliest])
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
