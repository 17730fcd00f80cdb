"""Benchmark the upstream simulator: pages/second over real HTTP, and day generation time.

Run from the repository root::

    python bench/simulator_pages.py [--calls-per-day 500] [--days 90] [--pages 400]

The server runs in a child process (as the sync engine would see it), so client and server
do not share one interpreter lock. Prints one table.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import threading
import time
from datetime import date
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync.simulator import Simulator, SimulatorConfig  # noqa: E402

END = date(2024, 3, 28)  # a Thursday: a full weekday volume
ENV = "acme-sales"


def _serve(conn: object, calls_per_day: int, days: int) -> None:
    sim = Simulator(SimulatorConfig(end_date=END, days=days, calls_per_day=calls_per_day))
    server = sim.serve()
    conn.send((server.talkover_url, sim.tokens[ENV]))  # type: ignore[attr-defined]
    conn.recv()  # type: ignore[attr-defined]  # blocks until the parent is done
    server.stop()


def _session(token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def _read(url: str, token: str, pages: list[int]) -> None:
    s = _session(token)
    for page in pages:
        r = s.get(f"{url}/calls", params={"per_page": 100, "page": page})
        r.raise_for_status()
        if not r.json()["data"]:
            raise RuntimeError(f"page {page} is empty: lower --pages")


def _rate(url: str, token: str, pages: int, threads: int) -> float:
    chunks = [list(range(1 + i, pages + 1, threads)) for i in range(threads)]
    workers = [threading.Thread(target=_read, args=(url, token, c)) for c in chunks]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return pages / (time.perf_counter() - start)


def _generation(calls_per_day: int, days: int) -> tuple[float, float, int]:
    """(ms per base day, ms per full day incl. callbacks and its window, calls a day)."""
    sim = Simulator(SimulatorConfig(end_date=END, days=days, calls_per_day=calls_per_day))
    store = sim.talkover_store(ENV)
    last = END.toordinal()
    base_ms, sizes = [], []
    for ordinal in range(last - 9, last + 1):
        start = time.perf_counter()
        calls = store.profile.base_day(ordinal)
        base_ms.append((time.perf_counter() - start) * 1000)
        sizes.append(len(calls))
    cold = Simulator(SimulatorConfig(end_date=END, days=days, calls_per_day=calls_per_day))
    start = time.perf_counter()
    day = cold.talkover_store(ENV).day(last)
    full_ms = (time.perf_counter() - start) * 1000
    return statistics.mean(base_ms), full_ms, len(day.recs) or int(statistics.mean(sizes))


def _in_process(calls_per_day: int, days: int, pages: int) -> tuple[float, float]:
    """Server-side ms per page without HTTP: (cold, warm)."""
    from sync.simulator.api import respond

    sim = Simulator(SimulatorConfig(end_date=END, days=days, calls_per_day=calls_per_day))
    auth = f"Bearer {sim.tokens[ENV]}"
    out = []
    for _ in range(2):
        start = time.perf_counter()
        for page in range(1, pages + 1):
            resp = respond(sim, "GET", "/api/v1/calls", f"per_page=100&page={page}", auth)
            assert resp.status == 200
        out.append((time.perf_counter() - start) * 1000 / pages)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-per-day", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--pages", type=int, default=400, help="per_page=100 pages per run")
    args = parser.parse_args()

    base_ms, full_ms, per_day = _generation(args.calls_per_day, args.days)
    cold_ms, warm_ms = _in_process(args.calls_per_day, args.days, args.pages)
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(
        target=_serve, args=(child, args.calls_per_day, args.days), daemon=True)
    proc.start()
    url, token = parent.recv()
    try:
        cold = _rate(url, token, args.pages, 1)
        warm = _rate(url, token, args.pages, 1)
        threaded = _rate(url, token, args.pages, 4)
    finally:
        parent.send("stop")
        proc.join(timeout=10)

    rows = [
        ("calls per day (one environment)", f"{per_day}"),
        ("generate one day: base calls", f"{base_ms:.1f} ms"),
        ("generate one day cold (+ callbacks, 7-day window)", f"{full_ms:.1f} ms"),
        ("server work per page, no HTTP, cold", f"{cold_ms:.2f} ms"),
        ("server work per page, no HTTP, warm", f"{warm_ms:.2f} ms"),
        ("pages/s, 1 client, cold (generating + serialising)", f"{cold:.0f}"),
        ("pages/s, 1 client, warm", f"{warm:.0f}"),
        ("pages/s, 4 threads, warm", f"{threaded:.0f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"Simulator benchmark: /api/v1/calls per_page=100, {args.pages} pages per run, "
          f"{args.days} days x {args.calls_per_day} calls/day")
    print(f"| {'metric'.ljust(width)} | value    |")
    print(f"|-{'-' * width}-|----------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value.rjust(8)} |")


if __name__ == "__main__":
    main()
