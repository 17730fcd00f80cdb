"""What the request budget costs each request a sync sends: cache round trips and CPU.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench REDIS_URL=redis://127.0.0.1:6379/12 \\
        python bench/budget_cost.py [--requests 733]

Every request of a sync takes a ticket (`RequestBudget.acquire`) and records the answer's
`X-RateLimit-*` headers (`observe`), both through the cache (Redis in production: without
REDIS_URL the database cache answers, slower). In a back-fill they run on the thread that
fetches pages, which shares the GIL with the threads checking and writing them, so their
Python is on the back-fill's critical path. This runs `--requests` tickets (733: the
requests of `bench/sync_throughput.py`'s default back-fill) on one thread with a limit that
never waits, and prints the cache round trips per request, the thread's CPU and the wall
time, then what a new budget's first ticket costs (it counts the window's buckets first).
The budget's keys are its own (a token made for the run) and expire by themselves.
"""
from __future__ import annotations

import argparse
import os
import secrets
import time

import benchkit  # bench/benchkit.py: what the benchmark scripts share

# New budgets whose first ticket is measured after the run (the window then holds its tickets).
FIRST_TICKETS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=733)
    args = parser.parse_args()
    benchkit.production_settings()
    benchkit.setup_django()
    from django.core.cache import cache, caches

    from sync.budget import RequestBudget

    budget = RequestBudget(f"talq_bench_{secrets.token_hex(8)}", limit=10_000_000)
    headers = {"X-RateLimit-Limit": "10000000", "X-RateLimit-Remaining": "9999000",
               "X-RateLimit-Reset": "30"}
    budget.acquire()  # the first ticket counts the window's closed buckets once
    trips = 0
    for name in ("get", "get_many", "add", "set"):
        real = getattr(cache, name)

        def counted(*a, _real=real, **k):
            nonlocal trips
            trips += 1
            return _real(*a, **k)

        setattr(cache, name, counted)
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(args.requests):
        budget.acquire()
        budget.observe(headers)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    backend = type(caches["default"]).__name__
    print(f"{'requests':>9}{'round trips':>13}{'per request':>13}{'CPU s':>8}{'wall s':>8}"
          f"{'CPU ms/request':>16}  cache")
    print(f"{args.requests:>9}{trips:>13}{trips / args.requests:>13.1f}{cpu:>8.3f}{wall:>8.3f}"
          f"{cpu * 1000 / args.requests:>16.2f}  {backend}")
    # Every run and webhook round makes a budget: its first ticket counts the window first.
    before, cpu, wall = trips, time.thread_time(), time.perf_counter()
    for _ in range(FIRST_TICKETS):
        RequestBudget(budget.token, limit=10_000_000).acquire()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    print(f"a new budget's first ticket ({FIRST_TICKETS} budgets): "
          f"{(trips - before) / FIRST_TICKETS:.1f} round trips, "
          f"{cpu * 1000 / FIRST_TICKETS:.2f} ms CPU, {wall * 1000 / FIRST_TICKETS:.2f} ms wall")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
