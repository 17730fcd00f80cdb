"""The callback funnel's latency beside the calls report's, on PostgreSQL.

Back-fills one Talkover environment from the built-in simulator (in process, over a real
socket) with the real sync — so the links are the sync's own — then times, over the last
`--report-days` days, the funnel (`reports.queries.callback_funnel.callback_funnel`) and the
calls summary with coverage (`reports.registry.run("calls", …)`), each cold (report cache
cleared before every run), `--runs` rounds of one run each, interleaved (a shared machine's
load moves both alike), and prints one table with the load average before and after. Target: funnel
≤ 2 × the calls report (p50 and p95). The funnel reads the per-day rows the link table's
triggers keep; it is also timed counting the links themselves (SQLite's way, and the way
before those rows), and the two are checked to give the same funnel.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_funnel_bench \\
        python bench/callback_funnel.py [--calls-per-day 11000] [--days 90] [--runs 100]

The database is flushed first: only use a database made for this. A data set of an earlier
run is reused when `--reuse` is given.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta

import benchkit  # bench/benchkit.py: what the benchmark scripts share

benchkit.setup_django()

from django.core.cache import cache  # noqa: E402

from portal.models import Environment, Organization  # noqa: E402
from reports import registry  # noqa: E402
from reports.queries import callback_funnel as funnel_module  # noqa: E402
from reports.queries.callback_funnel import callback_funnel, link_days  # noqa: E402
from reports.scope import build_scope  # noqa: E402
from sync.engine import sync_environment  # noqa: E402
from sync.models import Call, CallbackLink  # noqa: E402
from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator  # noqa: E402


def p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(fns: dict, runs: int) -> dict[str, list[float]]:
    """Milliseconds of each function, cold, `runs` rounds of one call of each in turn."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            cache.clear()
            started = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - started) * 1000)
    return out


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def backfill(days: int, per_day: int) -> Environment:
    config = SimulatorConfig(seed=38, days=days, calls_per_day=per_day,
                             environments={"bench": EnvironmentSpec("talkover")})
    org = Organization.objects.create(slug="funnel", name="Funnel", timezone="UTC")
    with running_simulator(config) as (sim, server):
        env = Environment(organization=org, name="Bench", base_url=server.talkover_url,
                          backfill_days=days, requests_per_minute=1_000_000)
        env.set_token(sim.tokens["bench"])
        env.save()
        started = time.perf_counter()
        outcome = sync_environment(env, now=sim.now)
        if outcome.failed:
            raise SystemExit([r.error for r in outcome.runs])
        print(f"back-fill: {Call.objects.count():,} calls, "
              f"{CallbackLink.objects.count():,} links in {time.perf_counter() - started:.0f} s")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--calls-per-day", type=int, default=11_000)
    parser.add_argument("--report-days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    env = Environment.objects.select_related("organization").filter(
        organization__slug="funnel").first() if args.reuse else None
    if env is None:
        benchkit.fresh_database()
        env = backfill(args.days, args.calls_per_day)
    env = Environment.objects.select_related("organization").get(pk=env.pk)
    last = Call.objects.filter(environment=env).latest("started_at").started_at.date()
    first = last - timedelta(days=args.report_days - 1)
    scope = build_scope(env.organization, [env], first, last)
    answer = callback_funnel([env], first, last)
    # The same funnel counting the links themselves (as SQLite does, and as it did before
    # the kept per-day rows): the reference, and the kept rows' recount.
    kept = link_days(env.organization_id, [env.pk], first, last)
    recount = link_days(env.organization_id, [env.pk], first, last, raw=True)
    real = funnel_module.link_days

    def counting_links():
        funnel_module.link_days = lambda *a, **k: real(*a, **{**k, "raw": True})
        try:
            return callback_funnel([env], first, last)
        finally:
            funnel_module.link_days = real

    same = counting_links() == answer
    before = load()
    times = timed({"calls": lambda: registry.run("calls", scope),
                   "funnel": lambda: callback_funnel([env], first, last),
                   "raw": counting_links}, args.runs)
    calls, funnel, raw = times["calls"], times["funnel"], times["raw"]
    print(f"{Call.objects.filter(environment=env).count():,} calls, {args.report_days} days, "
          f"{answer.totals.received:,} callbacks, {len(answer.differing_days)} days differing "
          f"from the vendor")
    print(f"{'report (cold)':<22}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    print(f"kept days equal a recount of the links: {kept.normalised() == recount.normalised()}"
          f"; the funnel from either is the same: {same}")
    for name, values in (("calls summary", calls), ("callback funnel", funnel),
                         ("funnel counting links", raw)):
        print(f"{name:<22}{p(values, 0.5):>10.1f}{p(values, 0.95):>10.1f}"
              f"{statistics.mean(values):>10.1f}")
    print(f"funnel / calls: p50 {p(funnel, 0.5) / p(calls, 0.5):.2f}, "
          f"p95 {p(funnel, 0.95) / p(calls, 0.95):.2f} (target ≤ 2); {args.runs} interleaved "
          f"runs; load average {before} before, {load()} after")


if __name__ == "__main__":
    main()
