"""Freshness with webhooks: call-end → visible, and requests a minute as a share of the budget.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/freshness.py [--volumes 20000,100000] [--minutes 3]

Needs PostgreSQL and Redis: each volume gets a scratch database next to DATABASE_URL's
(`<name>_fresh<volume>`, dropped at the end) and REDIS_URL's db + 2 (flushed). The
production processes run as `make serve` starts them (`Procfile`: gunicorn, the `sync`
worker, beat), DEBUG off. This process serves the simulator (one Talkover workspace of
`volume` calls a day, today, on Talkover's standard plan: 100 requests a minute, sent in
`X-RateLimit-*`; its UTC offset is chosen so that the hour we watch is its busiest, local
10:00 at 2.1 times a day's mean rate, whenever the bench runs) and moves its clock with
the wall clock, so every call that ends is delivered as Talkover would: a signed webhook to
the portal (registered on every agent with `manage.py talkover_webhooks --register`). The
environment has the production budget (90
requests a minute) and a schedule every 2 minutes (so the schedule's runs share the budget
with the webhooks while we watch).

After a back-fill (budget lifted for it, not counted), for `--minutes`: every call whose end
was delivered is watched in the database (polled every 0.2 s) until its final status is
there: call-end → visible p50 / p90 / p99 (the delivery itself is part of it), and of the
calls not yet visible when we stop, how long the oldest had waited. Requests: the
webhook runs' and the schedule's (their `SyncRun.requests`) a minute, as a share of the
budget; the most in any 60 s (the simulator's log) against the budget and the plan; 429s
answered; schedule runs that succeeded. One row per volume. Wall-clock figures on a shared
machine are indicative.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchkit  # noqa: E402  (bench/benchkit.py: what the benchmark scripts share)
import psycopg  # noqa: E402
import redis  # noqa: E402

from sync.simulator import EnvironmentSpec, SimulatorConfig, running_simulator  # noqa: E402
from sync.simulator.catalog import LOCAL_HOUR_WEIGHT  # noqa: E402
from tests.support.processes import (  # noqa: E402
    Processes,
    free_port,
    manage,
    procfile,
    production_env,
    scratch_database,
    scratch_redis,
    wait_for,
)

BUDGET = 90
PLAN = 100
KEY = "bench"
BUSIEST_LOCAL_HOUR = LOCAL_HOUR_WEIGHT.index(max(LOCAL_HOUR_WEIGHT))


def busiest_now(at: datetime) -> int:
    """The workspace's UTC offset that makes the hour of ``at`` its busiest: a run at night
    would otherwise watch a handful of calls and say little about the volume."""
    return (BUSIEST_LOCAL_HOUR - at.hour + 12) % 24 - 12


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure(volume: int, minutes: float) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    config = SimulatorConfig(seed=7, days=1, calls_per_day=volume, end_date=None, now=now,
                             environments={KEY: EnvironmentSpec(
                                 "talkover", utc_offset_hours=busiest_now(now))})
    with running_simulator(config) as (sim, server), \
            scratch_database(f"fresh{volume}") as db_url, scratch_redis() as redis_url, \
            tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = production_env(db_url, redis_url, Path(tmp), PORT=str(port),
                             PORTAL_BASE_URL=base, ALLOWED_HOSTS="127.0.0.1,localhost",
                             SYNC_DISPATCH_SECONDS="10", LOG_LEVEL="WARNING")
        manage(env, "migrate", "--no-input")
        manage(env, "createcachetable")
        manage(env, "createorg", "bench", "--name", "Bench", "--timezone", "UTC")
        manage(env, "addenv", "bench", "Sales", "--provider", "talkover", "--base-url",
               server.talkover_url, "--token-stdin", stdin=sim.tokens[KEY])
        conn = psycopg.connect(db_url, autocommit=True)
        env_id = conn.execute("SELECT id FROM portal_environment").fetchone()[0]
        conn.execute("UPDATE portal_environment SET requests_per_minute = 100000")
        manage(env, "sync", "--env", str(env_id), "--backfill-days", "1")
        manage(env, "talkover_webhooks", str(env_id), "--register", "--base-url", base)
        conn.execute("UPDATE portal_environment SET requests_per_minute = %s, "
                     "sync_interval_minutes = 2, next_sync_at = now() + interval '2 minutes'",
                     [BUDGET])
        sim.faults = f"ratelimit={PLAN}"
        # The back-fill's tickets (budget lifted) are not the measurement's.
        redis.Redis.from_url(redis_url).flushdb()
        procs = Processes(Path(tmp), env)
        stop = threading.Event()
        try:
            procs.start("web", ["sh", "-c", procfile()["web"]])
            procs.start("worker", ["sh", "-c", procfile()["worker"]],
                        SYNC_CONCURRENCY="2")
            procs.start("beat", ["sh", "-c", procfile()["beat"]])
            wait_for(lambda: " ready" in procs.log("worker"), 60, "the worker")
            benchkit.wait_for_health(port, tries=600)

            def tick() -> None:  # Talkover's clock is the wall clock: calls end, hooks fire
                while not stop.is_set():
                    sim.set_now(datetime.now(UTC))
                    stop.wait(0.2)

            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
            started = time.time()
            server.clear_log()
            ends = {}
            seen: dict[str, float] = {}
            with sim.lock:
                recs = {r.id: r for r in sim.talkover_store(KEY).day(sim.today.toordinal()).recs}
            while time.time() - started < minutes * 60:
                with sim.webhooks._lock:
                    delivered = {d.call_id for d in sim.webhooks.log if d.status == 202}
                for call_id in delivered - ends.keys():
                    rec = recs.get(call_id)
                    if rec is not None and rec.t_end >= started:
                        ends[call_id] = rec
                waiting = [i for i in ends if i not in seen]
                if waiting:
                    rows = conn.execute(
                        "SELECT external_id, status FROM sync_call WHERE environment_id = %s "
                        "AND external_id = ANY(%s)", [env_id, waiting]).fetchall()
                    now = time.time()
                    for call_id, status in rows:
                        if status == ends[call_id].final:
                            seen[call_id] = now
                time.sleep(0.2)
            stop.set()
            ticker.join(5)
            ended_at = time.time()
            window = ended_at - started
            # A call not yet visible when we stop: how long it had waited (a tail that the
            # next round would take, or a call left behind).
            unseen = [ended_at - ends[i].t_end for i in ends if i not in seen]
            lags = [seen[i] - ends[i].t_end for i in seen]
            runs = conn.execute(
                "SELECT trigger, count(*), coalesce(sum(requests), 0), "
                "count(*) FILTER (WHERE status = 'succeeded') FROM sync_syncrun "
                "WHERE environment_id = %s AND started_at >= to_timestamp(%s) GROUP BY trigger",
                [env_id, started]).fetchall()
            log = [r.at for r in server.request_log if r.path.startswith("/api/")]
            worst = max((sum(1 for t in log if a <= t < a + 60) for a in log), default=0)
            too_many = sum(1 for r in server.request_log if r.status == 429)
            sample = conn.execute(
                "SELECT requests, status, details->'hinted'->>0 FROM sync_syncrun WHERE "
                "environment_id = %s AND trigger = 'webhook' AND started_at >= to_timestamp(%s) "
                "ORDER BY id DESC LIMIT 3", [env_id, started]).fetchall()
        finally:
            stop.set()
            procs.stop_all()
            conn.close()
            logs = ROOT / "var" / "bench-freshness"  # kept for a look afterwards
            logs.mkdir(parents=True, exist_ok=True)
            for name in ("web", "worker", "beat"):
                if (Path(tmp) / f"{name}.log").exists():
                    (logs / f"{volume}-{name}.log").write_text(procs.log(name))
    by = {t: (n, req, ok) for t, n, req, ok in runs}
    hook = by.get("webhook", (0, 0, 0))
    sched = by.get("schedule", (0, 0, 0))
    return {
        "volume": volume, "ended": len(ends), "visible": len(lags),
        "unseen_oldest": max(unseen, default=None),
        "p50": percentile(lags, 50) if lags else None,
        "p90": percentile(lags, 90) if lags else None,
        "p99": percentile(lags, 99) if lags else None,
        "mean": statistics.fmean(lags) if lags else None,
        "hook_runs": hook[0], "hook_rpm": hook[1] / window * 60,
        "sched_runs": sched[2], "sched_rpm": sched[1] / window * 60,
        "worst60": worst, "429": too_many, "minutes": window / 60, "sample": sample,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volumes", default="20000,100000",
                        help="calls a day, comma-separated (default 20000,100000)")
    parser.add_argument("--minutes", type=float, default=3.0,
                        help="minutes watched per volume (default 3)")
    args = parser.parse_args()
    rows = [measure(int(v), args.minutes) for v in args.volumes.split(",")]

    def s(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f}"

    print(f"budget {BUDGET}/min (plan {PLAN}/min); webhook share "
          f"{0.4:.0%}; schedule every 2 min; watched {args.minutes:g} min per volume, "
          f"the workspace's busiest hour (local {BUSIEST_LOCAL_HOUR}:00, "
          f"{max(LOCAL_HOUR_WEIGHT) * 24 / sum(LOCAL_HOUR_WEIGHT):.1f}x a day's mean rate)")
    head = ("calls/day", "ended", "visible", "unseen: oldest s", "p50 s", "p90 s", "p99 s",
            "webhook runs",
            "webhook req/min", "% budget", "schedule req/min", "% budget", "sched ok",
            "max in 60 s", "429")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join([
            f"{r['volume']:,}", str(r["ended"]), str(r["visible"]), s(r["unseen_oldest"]),
            s(r["p50"]), s(r["p90"]),
            s(r["p99"]), str(r["hook_runs"]), s(r["hook_rpm"]),
            f"{r['hook_rpm'] / BUDGET:.0%}", s(r["sched_rpm"]),
            f"{r['sched_rpm'] / BUDGET:.0%}", str(r["sched_runs"]), str(r["worst60"]),
            str(r["429"])]))
    for r in rows:
        for requests, status, summary in r["sample"]:
            print(f"{r['volume']:,}: a webhook round, {requests} requests, {status}: "
                  f"{summary or '(stopped before its summary)'}")


if __name__ == "__main__":
    main()
