"""A back-fill at the vendor's pace: how soon recent days are visible, how much of the budget
the history gets, and how fresh today stays meanwhile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/backfill_pace.py [--days 14] [--calls-per-day 2000] [--factor 4]
    # 90 days of 20,000 calls (about 18,000 pages; --factor 20: ten real minutes if it keeps up):
        .venv/bin/python bench/backfill_pace.py --days 90 --calls-per-day 20000 --factor 20
    # freshness during a busy hour's back-fill, whatever the hour it runs at:
        .venv/bin/python bench/backfill_pace.py --days 10 --calls-per-day 20000 --factor 3 \
            --webhooks --at 14:00

The simulator serves one Talkover workspace (`--days` of `--calls-per-day`, ending now) on
the standard plan, 100 requests a minute per token (`ratelimit=100:W`, 429 past it), and the
environment has the production budget (`--budget`, 90 a minute) — both with time compressed
by `--factor`: a minute is 60/factor real seconds (the budget's window, SYNC_BUDGET_WINDOW,
and the simulator's rate window alike), and the simulator's clock runs `factor` times the
wall clock, so today's calls keep arriving and ending while the history loads. The sync runs
in this process as the worker runs it: a run waits at most a twelfth of the budget window
for a ticket, is deferred when the budget is spent and continued when it has room again
(each continuation refreshes today first, then goes on with the older days, newest first).
Without `--webhooks` freshness is what the runs alone give. With it, every agent has a
webhook registered (`sync.webhooks.register`, as `manage.py webhooks --register` does) at the
portal's receiver, served in this process (Django's WSGI application on a loopback port), so
the simulator delivers every call that ends, signed; a worker thread runs the webhook task
(`sync.tasks.webhook_sync`, in process) whenever a delivery queued it, and again when what it
queued for later (a continuation after a spent budget, its retry) would run, as a `sync`
worker would. The receiver's own rules apply: during the first back-fill,
deliveries queue nothing until today is read; from then on the back-fill's run serves them
between its pages and webhook rounds between its runs (`sync/webhooks/serving.py`).

Printed, in scaled minutes (what they would be at the real plan): when today, the last 7
days and the whole history were visible (read from the calls cursor's window, as coverage
and the pages' "history: n of N days mirrored" read it); the requests the upstream served a
minute as a share of the budget and of the plan, the most in any rate window and the 429s;
the history's share of what the rest left (its requests over what the window allowed, both
less the webhook rounds', the hints the back-fill's runs served and each continuation's
refresh of the lookback: what incremental and webhook runs take), and the
same by the rates (the budget a minute times the minutes until the back-fill's last run
ended, a little after the history was visible);
and freshness: every call that ended during the back-fill, watched in the database until its
final status is there (scaled seconds from its end to visible; those still waiting at the end
with their oldest wait), and on stderr the five slowest with the runs live when each showed
(where the tail waited). How many calls end meanwhile follows the simulated hour (20,000 a
day end about one a minute at 01:00 UTC, forty at 14:00): `--at 14:00` starts the
simulator's clock at that UTC time of today, so runs made at different hours compare. Uses
DATABASE_URL's database (its bench organisation only) and
REDIS_URL for the budget's tickets (its cache is cleared first: give the bench a Redis
database of its own). Wall-clock figures on a shared machine are indicative.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)

KEY = "pace"
SLUG = "backfill-pace"
PLAN = 100
RECENT = 7


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Clock:
    """The simulator's clock, `factor` times the wall clock from `start`."""

    def __init__(self, start: datetime, factor: float) -> None:
        self.start, self.factor, self.t0 = start, factor, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.factor)

    def minutes(self) -> float:
        """Scaled minutes since the start."""
        return (self.now() - self.start).total_seconds() / 60


class Watcher(threading.Thread):
    """Polls the mirror: when the window reached today, the last 7 days, the horizon; and
    when each call that ended meanwhile shows its final status."""

    def __init__(self, env, sim, clock: Clock, days: int) -> None:
        super().__init__(daemon=True)
        self.env, self.sim, self.clock, self.days = env, sim, clock, days
        self.stop = threading.Event()
        self.marks: dict[str, float] = {}
        self.ended: dict[str, tuple[int, str]] = {}  # id: (end, final status)
        self.lags: list[float] = []
        self.seen: set[str] = set()
        self.first: dict[str, float] = {}  # id: scaled stamp first in the mirror (any status)
        self.final_at: dict[str, float] = {}
        self.final_real: dict[str, float] = {}

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                self.poll()
                self.stop.wait(0.25)
        finally:
            connection.close()

    def poll(self) -> None:
        from sync.models import Call, StreamState

        now = self.clock.now()
        today = now.date()
        cursor = (StreamState.objects.filter(environment=self.env, stream="calls")
                  .values_list("cursor", flat=True).first() or {})
        oldest = date.fromisoformat(cursor["oldest"]) if cursor.get("oldest") else None
        through = cursor.get("read_through")
        # Visible: the window (`oldest`..`read_through`, as coverage reads it) holds the days
        # and has reached today (an oldest-first read reaches it last).
        if oldest and through and datetime.fromisoformat(through).date() >= today:
            recent = today - timedelta(min(RECENT, self.days) - 1)
            for name, first in (("today", today), ("last 7 days", recent),
                                ("history", today - timedelta(self.days - 1))):
                if oldest <= first and name not in self.marks:
                    self.marks[name] = self.clock.minutes()
                    print(f"{name} visible after {self.marks[name]:.2f} scaled minutes",
                          file=sys.stderr, flush=True)
        stamp = int(now.timestamp())
        with self.sim.lock:
            recs = self.sim.talkover_store(KEY).day(today.toordinal()).recs
            for rec in recs:
                if self.clock.start.timestamp() < rec.t_end <= stamp:
                    self.ended.setdefault(rec.id, (rec.t_end, rec.final))
        waiting = [i for i in self.ended if i not in self.seen]
        if not waiting:
            return
        for call_id, status in Call.objects.filter(environment=self.env, external_id__in=waiting
                                                   ).values_list("external_id", "status"):
            end, final = self.ended[call_id]
            self.first.setdefault(call_id, stamp - end)
            if status == final:
                self.final_at[call_id] = stamp
                self.final_real[call_id] = time.time()
                self.seen.add(call_id)
                self.lags.append(stamp - end)

    def unseen_oldest(self) -> float | None:
        stamp = self.clock.now().timestamp()
        return max((stamp - end for i, (end, _) in self.ended.items() if i not in self.seen),
                   default=None)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # one line per delivery is noise here
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _closing(app):
    """`app`, closing the request thread's database connection once it answered: each
    delivery gets a thread of its own here, and their connections, left open, took every one
    PostgreSQL allows ("too many clients")."""
    from django.db import connections

    def serve(environ, start_response):
        try:
            return list(app(environ, start_response))
        finally:
            connections.close_all()

    return serve


class Webhooks:
    """The portal's webhook receiver on a loopback port, registered on every agent of `env`,
    and a worker thread running the webhook task whenever a delivery queued one."""

    def __init__(self, env, retry: float) -> None:
        from django.core.wsgi import get_wsgi_application

        from sync.webhooks.register import register

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = make_server("127.0.0.1", port, _closing(get_wsgi_application()),
                                  server_class=_ThreadingServer, handler_class=_Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        env.replace_webhook_secret()
        env.save()
        self.registration = register(env, f"http://localhost:{port}")
        # What the task queues for later (a continuation when the budget was spent, a round
        # paced further off than it sleeps, its retry when the environment was held) reaches
        # no worker here: the loop runs the task again when that would have run it.
        self.env, self.retry, self.stop = env, retry, threading.Event()
        self.rounds: list[dict] = []
        self.due: float | None = None  # when the task queued for later runs (epoch)
        self.worker = threading.Thread(target=self._work, daemon=True)

    def _queue_later(self, args, kwargs=None, countdown: float = 0, **options) -> None:
        """The task's `apply_async` with a countdown: noted, run by the loop then."""
        self.due = time.time() + (countdown or 0)

    def _work(self) -> None:
        from celery.exceptions import Retry
        from django.db import connection

        from sync import tasks
        from sync.webhooks import coalesce

        tasks.webhook_sync.apply_async = self._queue_later
        try:
            while not self.stop.wait(0.1):
                if self.due is not None:
                    if time.time() < self.due:
                        continue  # queued for later; deliveries meanwhile join it
                elif not cache_get(coalesce.queued_key(self.env.pk)):
                    continue  # nothing queued (the receiver claims the mark when it queues)
                self.due = None
                # Called as a worker calls it, not eagerly: a round waits for a ticket at
                # most `budget_max_wait()`, then is turned away and queued for when the
                # budget has room (counted starved: the next continuation leaves the
                # webhooks their share); an eager round would wait for as long as the
                # back-fill's run had spent the window.
                try:
                    self.rounds.append(tasks.webhook_sync(self.env.pk))
                except Retry:  # the environment was held: the task's retry
                    self.rounds.append({"environment": self.env.pk, "retried": True})
                    self.due = time.time() + self.retry
        finally:
            connection.close()

    def close(self) -> None:
        self.stop.set()
        self.worker.join(30)
        self.server.shutdown()


def cache_get(key: str):
    from django.core.cache import cache

    return cache.get(key)


def measure(days: int, per_day: int, factor: float, budget: int, interval: float,
            webhooks: bool = False, at: str | None = None) -> dict:
    from django.core.cache import cache

    from portal.models import Environment, Organization
    from sync.engine import sync_environment
    from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator

    window = 60 / factor
    start = datetime.now(UTC).replace(microsecond=0)
    if at:
        # The upstream's clock at a chosen hour of today (UTC): how many calls end while
        # the history loads follows the hour (a quiet night hour ends one a minute at 20,000
        # a day), so runs compare at one hour. The sync never takes "now" from our clock.
        hour, minute = (int(part) for part in at.split(":"))
        start = start.replace(hour=hour, minute=minute, second=0)
    config = SimulatorConfig(seed=7, days=days, calls_per_day=per_day, end_date=None, now=start,
                             environments={KEY: EnvironmentSpec("talkover")})
    Organization.objects.filter(slug=SLUG).delete()
    # A run starts from an empty cache: the same seed gives the same calls and bodies, and an
    # earlier run's replay marks (same environment id on a new database) swallowed this run's
    # deliveries as "already received", its budget tickets (same token) spent its windows.
    cache.clear()
    org = Organization.objects.create(slug=SLUG, name="Back-fill pace", timezone="UTC")
    with running_simulator(config, ratelimit=PLAN, ratelimit_window=window) as (sim, server):
        env = Environment(organization=org, name="Sales", base_url=server.talkover_url,
                          backfill_days=days, requests_per_minute=budget)
        env.set_token(sim.tokens[KEY])
        env.save()
        pages = sum(-(-len(sim.talkover_store(KEY).day(d.toordinal()).recs) // 100)
                    for d in (start.date() - timedelta(i) for i in range(days)))
        clock = Clock(start, factor)
        # The task's retry after a held environment: 5 s at the real plan's pace.
        hooks = Webhooks(env, 5 / factor) if webhooks else None

        def tick() -> None:
            while not watcher.stop.is_set():
                sim.set_now(clock.now())
                watcher.stop.wait(0.1)

        watcher = Watcher(env, sim, clock, days)
        ticker = threading.Thread(target=tick, daemon=True)
        server.clear_log()
        ticker.start()
        watcher.start()
        if hooks is not None:
            hooks.worker.start()
        streams, runs = None, 0
        try:
            while True:
                outcome = sync_environment(env, now=clock.now(), budget_wait=window / 12,
                                           streams=streams)
                runs += not outcome.skipped
                if outcome.failed:
                    raise SystemExit(f"a run failed: {[r.error for r in outcome.runs]}")
                if outcome.deferred is None and not outcome.skipped:
                    break
                streams = outcome.deferred_streams
                time.sleep(max(0.01, outcome.deferred or 0))
            done = clock.minutes()
            backfill_requests = server.request_count
            # What else the requests until then paid for: the webhook rounds, the hints the
            # back-fill's runs served, and their refreshes of the lookback.
            parts = _parts(env, webhooks)
            # Calls that ended during the back-fill's last run: the schedule's next runs.
            for _ in range(3):
                watcher.poll()
                if len(watcher.seen) == len(watcher.ended):
                    break
                time.sleep(interval * window)
                sync_environment(env, now=clock.now(), budget_wait=window / 12)
            watcher.stop.set()
            watcher.join(5)
            watcher.poll()
        finally:
            watcher.stop.set()
            watcher.join(5)
            ticker.join(5)
            if hooks is not None:
                hooks.close()
        _diagnose(env, watcher)
        log = [r for r in server.request_log if r.path.startswith("/api/")]
        served = [r.at for r in log if r.status != 429]
        worst = max((sum(1 for t in served if a <= t < a + window) for a in served), default=0)
        return {
            "days": days, "per_day": per_day, "factor": factor, "budget": budget,
            "pages": pages, "runs": runs, "minutes": done, "marks": watcher.marks,
            "requests": backfill_requests, "429": sum(1 for r in log if r.status == 429),
            "worst": worst, "truncated": server.request_count > len(server.request_log),
            "ended": len(watcher.ended), "visible": len(watcher.lags),
            "p50": percentile(watcher.lags, 50), "p90": percentile(watcher.lags, 90),
            "max": max(watcher.lags, default=None), "unseen": watcher.unseen_oldest(),
            "webhooks": webhooks, "deliveries": len(sim.webhooks.log) if webhooks else 0,
            "hook_rounds": sum(r.get("runs", 0) for r in hooks.rounds) if hooks else 0,
            "hook_requests": _hook_requests(env) if webhooks else 0, "parts": parts,
        }


def _diagnose(env, watcher) -> None:
    """The five slowest calls on stderr: when each was first in the mirror (scaled seconds
    after its end) and the runs live when its final status came (trigger, status, real
    seconds from then to their end) — where a tail waited (e.g. a webhook round waiting for
    a ticket the back-fill's run had taken)."""
    from sync.models import SyncRun

    runs = list(SyncRun.objects.filter(environment=env).values_list(
        "trigger", "status", "started_at", "finished_at"))
    slow = sorted(((watcher.final_at[i] - end, i) for i, (end, _) in watcher.ended.items()
                   if i in watcher.final_at), reverse=True)[:5]
    for lag, call_id in slow:
        at = watcher.final_real[call_id]
        live = [(t, s, round(f.timestamp() - at, 1) if f else None) for t, s, st, f in runs
                if st.timestamp() <= at and (f is None or f.timestamp() >= at - 5)]
        print(f"slow: {lag:.0f} s, in the mirror {watcher.first.get(call_id)} s after its end;"
              f" runs then {live[:3]}", file=sys.stderr)


def _parts(env, webhooks: bool) -> dict[str, int]:
    """Requests of the runs so far that did not read history: the webhook rounds', the hints
    the back-fill's runs served, and those runs' refreshes of the lookback (what an
    incremental run does: the target is the history ≥ 90 % of what incremental and webhook
    runs leave)."""
    from sync.models import SyncRun
    from sync.models.core import Trigger

    own = SyncRun.objects.exclude(trigger=Trigger.WEBHOOK).filter(environment=env)
    details = list(own.values_list("details", flat=True))
    return {"rounds": _hook_requests(env) if webhooks else 0,
            "hints": sum(d.get("hint_requests", 0) for d in details),
            "refresh": sum(d.get("hot_requests", 0) for d in details)}


def _hook_requests(env) -> int:
    """Requests the webhook rounds sent (their runs' own count)."""
    from django.db.models import Sum

    from sync.models import SyncRun
    from sync.models.core import Trigger

    return SyncRun.objects.filter(environment=env, trigger=Trigger.WEBHOOK).aggregate(
        n=Sum("requests"))["n"] or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--calls-per-day", type=int, default=2000)
    parser.add_argument("--factor", type=float, default=4.0,
                        help="time compression: a minute lasts 60/factor real seconds")
    parser.add_argument("--budget", type=int, default=90,
                        help="the environment's requests a minute (the plan is 100)")
    parser.add_argument("--webhooks", action="store_true",
                        help="the simulator delivers every call that ends to the portal's "
                             "receiver, and webhook rounds run as a worker runs them")
    parser.add_argument("--at", metavar="HH:MM",
                        help="the simulator's clock starts at this UTC time of today "
                             "(default: now); freshness follows the hour's calls")
    parser.add_argument("--interval", type=float, default=2.0,
                        help="scaled minutes between the schedule's runs after the back-fill")
    args = parser.parse_args()
    os.environ["SYNC_BUDGET_WINDOW"] = str(60 / args.factor)
    if args.webhooks:
        # The receiver on loopback over http, as the production processes of bench/freshness.py
        # (no TLS in front of it here); a line per delivery in the log is noise.
        os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
    benchkit.production_settings()
    benchkit.setup_django()
    r = measure(args.days, args.calls_per_day, args.factor, args.budget, args.interval,
                args.webhooks, args.at)

    def s(value: float | None, fmt: str = ".1f") -> str:
        return "–" if value is None else format(value, fmt)

    rate = r["requests"] / r["minutes"]
    # What a rolling window lets through in that time: one budget per minute begun.
    allowed = r["budget"] * (int(r["minutes"]) + 1)
    print(f"{r['days']} days × {r['per_day']:,} calls a day ({r['pages']:,} pages of 100); "
          f"plan {PLAN}/min, budget {r['budget']}/min; time ×{r['factor']:g} "
          f"(a minute = {60 / r['factor']:.1f} s); {r['runs']} runs; webhooks "
          f"{'on' if r['webhooks'] else 'off'}; load "
          f"{open('/proc/loadavg').read().split()[0]}")
    head = ("today visible min", "last 7 days min", "history min", "requests", "req/min",
            "% of budget", "% of budget allowed", "max in a window", "429", "ended meanwhile",
            "visible", "p50 s", "p90 s", "max s", "unseen: oldest s", "deliveries",
            "webhook rounds", "their requests", "hints served in runs / refreshes: requests",
            "history: % of what they leave", "same, by the rates")
    print(" | ".join(head))
    marks = r["marks"]
    # The history's share of what the rest left: its own requests (all until the back-fill's
    # last run ended, less the rounds', the served hints' and the refreshes') over what the
    # window allowed less those; and by the rates (the budget a minute times the minutes,
    # less those): the first counts a whole budget for every minute begun, so it moves with
    # where the run's end falls in its last minute (35.03 minutes count 36).
    parts = r["parts"]
    others = parts["rounds"] + parts["hints"] + parts["refresh"]
    history = r["requests"] - others
    print(" | ".join([
        s(marks.get("today"), ".2f"), s(marks.get("last 7 days"), ".2f"),
        s(marks.get("history"), ".2f"), str(r["requests"]), s(rate),
        f"{rate / r['budget']:.0%}", f"{r['requests'] / allowed:.0%}", str(r["worst"]),
        str(r["429"]), str(r["ended"]),
        str(r["visible"]), s(r["p50"], ".0f"), s(r["p90"], ".0f"), s(r["max"], ".0f"),
        s(r["unseen"], ".0f"), str(r["deliveries"]), str(r["hook_rounds"]),
        str(r["hook_requests"]), f"{parts['hints']} / {parts['refresh']}",
        f"{history / max(1, allowed - others):.1%}",
        f"{history / max(1.0, r['budget'] * r['minutes'] - others):.1%}"]))
    if r["truncated"]:
        print("(the simulator's request log kept only its last entries: requests and 429s "
              "are of those)")


if __name__ == "__main__":
    main()
