"""Requests per incremental run of one Talkover environment, against the ideal.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench_incremental \\
        python bench/incremental_cost.py [--volumes 200,2300,20000,200000]

For each volume (calls a day) an in-process simulator serves one Talkover environment and
one back-fill mirrors its last day up to 15:00 UTC (not counted). Then, counting the
requests the simulator served (its request log):

* nothing new — a run at the same clock;
* 15 min — a run 15 minutes later;
* 5 min — a run 5 minutes after that, as a percentage of a 100/min budget over 5 minutes;
* reconciliation — a run at 02:15 the next day, when the day has settled and is read whole
  once (plus the new day's head).

The ideal is what the change needs: the agents stream (its one page and the callback
agents: 2), one callback-stats request per unsettled day, and the calls that changed
(created or updated in the calls stream's run) at 100 a page, at least one page; a
reconciliation adds the settled day's pages. PostgreSQL (SQLite works, slower). The
environment and its organisation are deleted at the end.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run(volume: int) -> dict[str, tuple[int, int]]:
    from portal.models import Environment, Organization
    from sync.engine import sync_environment
    from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator

    day = date(2026, 3, 10)
    config = SimulatorConfig(
        seed=5, days=1, calls_per_day=volume, end_date=day,
        now=datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC),
        environments={"bench": EnvironmentSpec("talkover")})
    org, _ = Organization.objects.get_or_create(slug=f"bench-inc-{volume}",
                                                defaults={"name": f"bench {volume}"})
    results: dict[str, tuple[int, int]] = {}
    try:
        with running_simulator(config) as (sim, server):
            env = Environment(organization=org, name="bench", base_url=server.talkover_url,
                              backfill_days=1, requests_per_minute=1_000_000)
            env.set_token(sim.tokens["bench"])
            env.save()
            sync_environment(env, now=sim.now)

            def measure(name: str, advance: timedelta, reconcile: bool = False) -> None:
                sim.advance(advance)
                before = server.request_count
                outcome = sync_environment(env, now=sim.now)
                assert not outcome.failed, [r.error for r in outcome.runs]
                calls = next(r for r in outcome.runs if r.stream == "calls")
                callbacks = next(r for r in outcome.runs if r.stream == "callback_days")
                pages = max(1, math.ceil((calls.created + calls.updated) / 100))
                if reconcile:  # every page of the settled day, and the new day's calls
                    pages = math.ceil(sim.truth.call_count("bench", day, day) / 100) + max(
                        1, math.ceil(sim.truth.call_count("bench", sim.today, sim.today) / 100))
                results[name] = (server.request_count - before, 2 + callbacks.requests + pages)

            measure("nothing new", timedelta(0))
            measure("15 min", timedelta(minutes=15))
            measure("5 min", timedelta(minutes=5))
            measure("reconciliation", sim.now.replace(hour=0, minute=0) + timedelta(
                days=1, hours=2, minutes=15) - sim.now, reconcile=True)
    finally:
        org.delete()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", default="200,2300,20000,200000")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    rows = []
    for volume in (int(v) for v in args.volumes.split(",")):
        r = run(volume)
        budget = 100 * 5
        rows.append((f"{volume:,}", *(f"{r[k][0]} / {r[k][1]} ({r[k][0] / r[k][1]:.1f}x)"
                                      for k in ("nothing new", "15 min")),
                     f"{r['5 min'][0]} ({100 * r['5 min'][0] / budget:.0f} %)",
                     f"{r['reconciliation'][0]} / {r['reconciliation'][1]}"))
    head = ("calls/day", "nothing new: req / ideal", "15 min: req / ideal",
            "5 min: req (% of 100/min x 5)", "reconciliation: req / ideal")
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    print(f"database: {connection.vendor}")
    for row in (head, *rows):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
