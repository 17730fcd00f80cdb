"""Benchmark the upstream simulator: pages/second over real HTTP, and day generation time.

Run from the repository root::

    python bench/simulator_pages.py [--calls-per-day 500] [--days 90] [--pages 400]

The server runs in a child process (as the sync engine would see it), so client and server
do not share one interpreter lock. Besides wall-clock pages/s (which depend on whatever else
the machine runs) it reports the server's CPU time per page and the pages/s that CPU time
allows on one free core, a figure a busy shared machine hardly changes. Prints one table.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import threading
import time
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync.simulator import Simulator, SimulatorConfig  # noqa: E402

END = date(2024, 3, 28)  # a Thursday: a full weekday volume
ENV = "acme-sales"


def _serve(conn: Connection, calls_per_day: int, days: int) -> None:
    sim = Simulator(SimulatorConfig(end_date=END, days=days, calls_per_day=calls_per_day))
    server = sim.serve()
    conn.send((server.talkover_url, sim.tokens[ENV]))
    while conn.recv() == "cpu":
        conn.send(time.process_time())
    server.stop()


def _read(url: str, token: str, pages: list[int]) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    for page in pages:
        r = s.get(f"{url}/calls", params={"per_page": 100, "page": page})
        r.raise_for_status()
        if not r.json()["data"]:
            raise RuntimeError(f"page {page} is empty: lower --pages")


def _run(conn: Connection, url: str, token: str, pages: int, threads: int) -> tuple[float, float]:
    """(wall pages/s, server CPU ms per page) of one pass over pages 1..pages."""
    chunks = [list(range(1 + i, pages + 1, threads)) for i in range(threads)]
    workers = [threading.Thread(target=_read, args=(url, token, c)) for c in chunks]
    conn.send("cpu")
    cpu0 = conn.recv()
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    conn.send("cpu")
    cpu = conn.recv() - cpu0
    return pages / wall, cpu * 1000 / pages


def _generation(calls_per_day: int, days: int) -> tuple[float, float, int]:
    """(CPU ms per base day, CPU ms per cold full day with its window, calls that day)."""
    sim = Simulator(SimulatorConfig(end_date=END, days=days, calls_per_day=calls_per_day))
    store = sim.talkover_store(ENV)
    last = END.toordinal()
    base_ms = []
    for ordinal in range(last - 13, last + 1):
        start = time.process_time()
        store.profile.base_day(ordinal)
        base_ms.append((time.process_time() - start) * 1000)
    cold = Simulator(SimulatorConfig(end_date=END, days=days, calls_per_day=calls_per_day))
    start = time.process_time()
    day = cold.talkover_store(ENV).day(last)
    return statistics.mean(base_ms), (time.process_time() - start) * 1000, len(day.recs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-per-day", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--pages", type=int, default=400, help="per_page=100 pages per run")
    args = parser.parse_args()

    base_ms, full_ms, per_day = _generation(args.calls_per_day, args.days)
    parent, child = mp.get_context("fork").Pipe()
    proc = mp.get_context("fork").Process(
        target=_serve, args=(child, args.calls_per_day, args.days), daemon=True)
    proc.start()
    url, token = parent.recv()
    try:
        runs = [
            ("1 client, cold (generating + serialising)", _run(parent, url, token, args.pages, 1)),
            ("1 client, warm (days cached)", _run(parent, url, token, args.pages, 1)),
            ("4 threads, warm", _run(parent, url, token, args.pages, 4)),
        ]
    finally:
        parent.send("stop")
        proc.join(timeout=10)

    rows = []
    for name, (rate, cpu_ms) in runs:
        rows.append((f"{name}: wall-clock pages/s", f"{rate:.0f}"))
        rows.append((f"{name}: server CPU per page", f"{cpu_ms:.2f} ms"))
        rows.append((f"{name}: pages/s the server CPU allows", f"{1000 / cpu_ms:.0f}"))
    rows.append(("generate one day: base calls only (CPU)", f"{base_ms:.1f} ms"))
    rows.append(("generate one day cold: + callbacks, 7 window days (CPU)", f"{full_ms:.1f} ms"))
    width = max(len(r[0]) for r in rows)
    print(f"Simulator benchmark: GET /api/v1/calls?per_page=100, {args.pages} pages per run, "
          f"{args.days} days x {args.calls_per_day} calls/day ({per_day} calls on the last "
          f"day); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"| {'metric'.ljust(width)} | {'value':>9} |")
    print(f"|-{'-' * width}-|-----------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value:>9} |")


if __name__ == "__main__":
    main()
