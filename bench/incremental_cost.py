"""Requests per incremental run of one Talkover environment, against the ideal.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench_incremental \\
        python bench/incremental_cost.py [--volumes 200,2300,20000,200000] [--days 1] \\
            [--lateness off] [--webhooks]

For each volume (calls a day) an in-process simulator serves one Talkover environment and
one back-fill mirrors its last day up to 15:00 UTC (with `--days 3`, the two days before
too: a whole lookback, whose late statuses the open-call check must see) (not counted). The
simulator's late statuses follow its default long tail unless `--lateness` says otherwise
(`off`, or `simulate_upstream`'s SHARE:MIN_HOURS-MAX_HOURS,...): a call whose final status
comes hours late is one request of its own (a page of its final status, or its SID), which
the ideal below counts as 1/100 of a page. Then, counting the requests the simulator served
(its request log):

* nothing new — a run at the same clock;
* 15 min — a run 15 minutes later;
* 5 min — a run 5 minutes after that, as a share of a 100/min budget over 5 minutes;
* reconciliation — a run at 02:15 the next day, when the day has settled and is read whole
  once (plus the new day's changes).

`--stop-after "15 min"` (or "5 min") leaves out the later runs.

The ideal is what the change needs, counted from the simulator's ground truth, not from
what the run did: the agents stream (its one page and the callback agents: 2), one
callback-stats request per mirrored day of the lookback (each is re-read every run until
it leaves the lookback), and the calls whose upstream record changed since the previous run
(new, or any field different: the truth before and after the clock moved) at 100 a page, at
least one page. A reconciliation adds every page of the settled day. "left different" counts the
mirrored calls still differing from the upstream after the 15-minute run (0 = exact). The
run's own summary of the hot days (requests by kind, movers by where found) is printed
below the table, with the 15-minute run's floor (`floor`): what a client told which calls
moved would still need, since moved calls sit among final ones in every listing Talkover
offers, while the ideal counts each as 1/100 of a page. PostgreSQL (SQLite works, slower).
The environment and its organisation are deleted at the end.

`--webhooks` (needs REDIS_URL, production's cache: a database of its own, flushed each run;
the database cache culls past 300 entries, hints among them) puts Talkover's webhooks in
the 15 minutes (`bench/webhook_window.py`): the environment registers its hook URL on every
agent (a signing secret made), then the simulator's own deliveries for the calls that end in
those 15 minutes (its body and signature) go, each in the second its call ends, through the
real receiver (Django's test client), and real webhook rounds (`sync.webhook_sync`'s body, in
process) read what they named, our clock moved with the simulator's by `time_machine`. The
receiver's queueing of the task is replaced by a local note, so the bench runs the rounds:
`paced`, when `sync.webhooks.pacing` lets the product run them (at the production budget,
the model's default 90 a minute, its webhooks' share enforced: a budget's wait moves the
clock); `one round`, all the window's deliveries read by one round at its end (budget
lifted). Then the scheduled 15-minute run as above. Each mode has its own back-fill and
environment. A second table gives, per volume and mode: deliveries (the receiver's
answers), rounds (blind: no usable hint, so the hot days were refreshed whole; +1 queued: one
not yet due at the end), the rounds' requests, the scheduled run's, their sum against the
floor, the calls left different and which fields differ (a round that waits for the
budget moves the clock: one past the window's end makes the scheduled run, and its floor,
that many seconds later: "s over"); under it, the rounds' requests by
kind (head pages, searches by SID, status pages, counts) and per round.
"""
from __future__ import annotations

import argparse
import math
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import benchkit  # bench/benchkit.py: what the benchmark scripts share
import time_machine
import webhook_window  # bench/webhook_window.py: deliveries and rounds of a window

ROOT = Path(__file__).resolve().parent.parent
BUDGET_5_MIN = 100 * 5


def setup_django() -> None:
    benchkit.setup_django()


def snapshot(sim, env: str) -> dict[str, dict]:
    """Every call the upstream serves at its clock, by id."""
    return {c["id"]: c for c in sim.truth.calls(env, sim.start_date, sim.today)}


def floor(before: dict[str, dict], after: dict[str, dict], today: str) -> tuple[int, int]:
    """(calls requests, of which pages for moved calls) that even a client told which calls
    moved would need, with Talkover's filters: the new calls' pages,
    and, for the calls that moved to a final status past what those pages read of today's
    listing, the fewest 100-call windows of their final status's listing (newest first by
    creation: the only order there is) holding them all (a window may start anywhere, more
    than the API's pages allow), and the count taken last. Finding *which* open calls moved
    costs more still (at least a page per open status), and is not counted."""
    from sync.providers.talkover.hot_window import NON_FINAL

    new = sum(1 for i in after if i not in before)
    listing = sorted(((c["created_at"], i) for i, c in after.items()
                      if c["created_at"][:10] == today), reverse=True)
    headed = {i for _, i in listing[:math.ceil(new / 100) * 100]}
    moved = [i for i, c in after.items() if i in before and i not in headed
             and before[i]["status"] in NON_FINAL and c["status"] not in NON_FINAL]
    windows = 0
    for status in {after[i]["status"] for i in moved}:
        order = sorted(((c["created_at"], i) for i, c in after.items()
                        if c["status"] == status), reverse=True)
        at = {i: k for k, (_, i) in enumerate(order)}
        spots, reach = sorted(at[i] for i in moved if after[i]["status"] == status), -1
        for spot in spots:
            if spot > reach:
                windows, reach = windows + 1, spot + 99
    return max(1, math.ceil(new / 100)) + windows + 1, windows


@dataclass
class Extra:
    """What the table's row does not hold: the fields of the calls left different, and the
    webhook window's deliveries and rounds (with `--webhooks`)."""

    fields: Counter[str] = field(default_factory=Counter)
    window: webhook_window.Window | None = None


def differing(upstream: dict | None, mirrored: dict) -> list[str]:
    """The fields a mirrored call's record holds otherwise than the upstream's."""
    if upstream is None:
        return ["(not upstream)"]
    return sorted(k for k in upstream.keys() | mirrored.keys()
                  if upstream.get(k) != mirrored.get(k))


def run(volume: int, days: int, lateness: str, stop_after: str = "reconciliation",
        webhooks: str | None = None
        ) -> tuple[dict[str, tuple[int, int]], int, list[str], Extra]:
    from portal.models import Environment, Organization
    from sync.engine import sync_environment
    from sync.models import Call
    from sync.simulator import EnvironmentSpec, Lateness, SimulatorConfig, running_simulator
    from sync.stored_record import all_attnames, record_of

    day = date(2026, 3, 10)
    config = SimulatorConfig(
        seed=5, days=days, calls_per_day=volume, end_date=day,
        now=datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC),
        environments={"bench": EnvironmentSpec("talkover")}, lateness=Lateness.parse(lateness))
    if webhooks is not None:
        from django.core.cache import cache

        # The budget's tickets are the token's, the same each run (the simulator's seed):
        # a window's must not be the next window's at the same upstream clock.
        cache.clear()
    org, _ = Organization.objects.get_or_create(slug=f"bench-inc-{volume}",
                                                defaults={"name": f"bench {volume}"})
    results: dict[str, tuple[int, int]] = {}
    summaries: list[str] = []
    stale = -1
    extra = Extra()
    try:
        with running_simulator(config) as (sim, server):
            env = Environment(organization=org, name="bench", base_url=server.talkover_url,
                              backfill_days=days, requests_per_minute=1_000_000)
            env.set_token(sim.tokens["bench"])
            env.save()
            # A back-fill cut short (a failed or deferred stream) would be carried on by the
            # "nothing new" run, which then counts the rest of the back-fill as its own.
            backfill = sync_environment(env, now=sim.now)
            assert not backfill.failed and backfill.deferred is None, \
                [(r.stream, r.status, r.error) for r in backfill.runs]

            def unsettled() -> int:
                """Callback days re-read every run: the mirrored days of the lookback."""
                first = max(sim.start_date, sim.today - timedelta(days=env.lookback_days))
                return (sim.today - first).days + 1

            def measure(name: str, advance: timedelta, reconcile: bool = False,
                        between: Callable[[datetime], None] | None = None) -> None:
                """`between(end)`, when given, moves the clock to `end` itself (the
                webhook window; later if its rounds ran over) before the run."""
                before_truth = snapshot(sim, "bench")
                if between is None:
                    sim.advance(advance)
                else:
                    between(sim.now + advance)
                after_truth = snapshot(sim, "bench")
                changed = [i for i, c in after_truth.items() if before_truth.get(i) != c]
                calls = 0
                if reconcile:  # every page of the settled day, and the other changes
                    whole = [i for i, c in after_truth.items() if c["created_at"][:10] ==
                             day.isoformat()]
                    calls = math.ceil(len(whole) / 100)
                    changed = [i for i in changed if after_truth[i]["created_at"][:10] !=
                               day.isoformat()]
                calls += max(1, math.ceil(len(changed) / 100))
                before = server.request_count
                outcome = sync_environment(env, now=sim.now)
                assert not outcome.failed, [r.error for r in outcome.runs]
                run = next(r for r in outcome.runs if r.stream == "calls")
                summaries.extend(f"{volume:,} {name}: {kind}: {line}"
                                 for kind in ("hot", "counted", "reread", "zone")
                                 for line in run.details.get(kind, []))
                results[name] = (server.request_count - before, 2 + unsettled() + calls)
                if name == "15 min":
                    least, moved = floor(before_truth, after_truth, day.isoformat())
                    least += 2 + unsettled()  # the ideal's own agents and callback days
                    results["floor"] = (least, moved)
                    summaries.append(f"{volume:,} {name}: floor: {least} requests "
                                     f"({least / results[name][1]:.2f}x the ideal), {moved} "
                                     f"of them pages of calls that moved, even told which")

            measure("nothing new", timedelta(0))
            if webhooks is None:
                measure("15 min", timedelta(minutes=15))
            else:
                webhook_window.register(env)
                # Our clock is the simulator's through the window (pacing, hints' expiry, the
                # rounds' now) and at its end for the scheduled run.
                with time_machine.travel(sim.now, tick=False) as traveller:

                    def window(end: datetime) -> None:
                        extra.window = webhook_window.drive(sim, server, env, webhooks, end,
                                                            traveller)

                    measure("15 min", timedelta(minutes=15), between=window)
            truth = snapshot(sim, "bench")
            # Each call's record as sent (`raw` holds what its columns do not).
            stale = 0
            for row in Call.objects.filter(environment=env).values(
                    "raw", *all_attnames()).iterator(2000):
                upstream, mirrored = truth.get(row["external_id"]), record_of(row["raw"], row)
                if upstream != mirrored:
                    stale += 1
                    extra.fields.update(differing(upstream, mirrored))
            if stop_after == "15 min":
                return results, stale, summaries, extra
            measure("5 min", timedelta(minutes=5))
            if stop_after == "5 min":
                return results, stale, summaries, extra
            measure("reconciliation", sim.now.replace(hour=0, minute=0) + timedelta(
                days=1, hours=2, minutes=15) - sim.now, reconcile=True)
    finally:
        org.delete()
    return results, stale, summaries, extra


def table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    for row in (head, *rows):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def webhook_row(volume: int, mode: str, r: dict[str, tuple[int, int]], stale: int,
                extra: Extra) -> tuple[str, ...]:
    """The window's rounds, the scheduled run after them, their sum against the floor."""
    w = extra.window
    assert w is not None
    total, least = w.requests + r["15 min"][0], r["floor"][0]
    answers = ", ".join(f"{n} x {s}" for s, n in sorted(w.answers.items(), key=str))
    return (f"{volume:,}", mode, f"{w.deliveries} ({answers or '-'})",
            f"{w.rounds} ({w.blind_rounds} blind){' +1 queued' if w.left_queued else ''}"
            f"{f', {w.overran} s over' if w.overran else ''}",
            str(w.requests), str(r["15 min"][0]), str(total), str(least),
            f"{total / least:.2f}x", str(stale),
            ", ".join(f"{k} {n}" for k, n in extra.fields.most_common()) or "-")


def webhook_notes(volume: int, mode: str, extra: Extra) -> list[str]:
    w = extra.window
    assert w is not None
    costs = sorted(w.costs)
    spread = (f"per round min / median / max {costs[0]} / {costs[len(costs) // 2]} / "
              f"{costs[-1]}" if costs else "no round")
    kinds = ", ".join(f"{n} {k}" for k, n in w.kinds.most_common())
    return [f"{volume:,} {mode}: webhook rounds' requests: {kinds or 'none'}; {spread}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", default="200,2300,20000,200000")
    parser.add_argument("--days", type=int, default=1, choices=range(1, 4),
                        help="days back-filled before the runs (3: the whole lookback)")
    parser.add_argument("--stop-after", default="reconciliation",
                        choices=("15 min", "5 min", "reconciliation"),
                        help="the last run measured (the later ones are left out)")
    parser.add_argument("--lateness", default="",
                        help='late final statuses as simulate_upstream takes them, or "off"')
    parser.add_argument("--webhooks", action="store_true",
                        help="the 15 minutes' deliveries and webhook rounds before the "
                             "15-minute run, paced and in one round (each its own back-fill)")
    args = parser.parse_args()
    if args.webhooks and not os.environ.get("REDIS_URL"):
        # The database cache culls its entries past 300: a busy window's hints (one entry a
        # delivery) would be lost at random, its counter too. Production's cache is Redis.
        parser.error("--webhooks needs REDIS_URL (a database of its own: it is flushed)")
    setup_django()
    from django.db import connection

    rows, notes, hook_rows, hook_notes = [], [], [], []
    for volume in (int(v) for v in args.volumes.split(",")):
        for mode in webhook_window.MODES if args.webhooks else (None,):
            r, stale, summaries, extra = run(volume, args.days, args.lateness,
                                             args.stop_after, mode)
            notes.extend(summaries)
            if mode is not None:
                hook_rows.append(webhook_row(volume, mode, r, stale, extra))
                hook_notes.extend(webhook_notes(volume, mode, extra))
            rows.append((f"{volume:,}" + (f" ({mode})" if mode else ""),
                         *(f"{r[k][0]} / {r[k][1]} ({r[k][0] / r[k][1]:.1f}x)"
                           for k in ("nothing new", "15 min")),
                         str(stale),
                         f"{r['5 min'][0]} ({100 * r['5 min'][0] / BUDGET_5_MIN:.0f} %)"
                         if "5 min" in r else "-",
                         f"{r['reconciliation'][0]} / {r['reconciliation'][1]}"
                         if "reconciliation" in r else "-"))
    print(f"database: {connection.vendor}; days back-filled: {args.days}; late statuses: "
          f"{args.lateness or 'default'}; load average {os.getloadavg()[0]:.1f}")
    table(("calls/day", "nothing new: req / ideal", "15 min: req / ideal",
           "left different", "5 min: req (% of 100/min x 5)", "reconciliation: req / ideal"),
          rows)
    if hook_rows:
        print()
        table(("calls/day", "rounds", "deliveries (answers)", "webhook rounds",
               "rounds: req", "15 min run: req", "sum", "floor", "sum / floor",
               "left different", "fields different (calls)"), hook_rows)
    print()
    print("\n".join([*hook_notes, *notes]))


if __name__ == "__main__":
    main()
