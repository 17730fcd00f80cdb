"""A fleet: several worker hosts, one PostgreSQL, one Redis, 200 environments, a killed host.

Five hosts (network namespaces on a bridge, `tests/support/fleet_net.py`; plain processes where they
cannot be built) run the Procfile's workers as an operator would spread them: one for the
incremental `sync` queue (and the single beat), three for `backfill`, one for `email` and
`alerts`. The simulator serves 200 Talkover environments of mixed sizes (one process serves
every token) and enforces each token's rate limit itself. The beat dispatches the 200 first
back-fills in bounded batches, longest due first; the largest environments need more requests
than one budget window allows, so their syncs defer and re-queue; summaries come due during
the run and several dispatchers race to send them; "sync now" is pressed for a few finished
environments while the back-fills still run; one back-fill host is SIGKILLed midway (frozen
first, while one of its runs runs: the run it dies in is one the fleet must find dead).

Then: every environment's mirror equals the simulator's ground truth; no environment's sync
runs overlapped in time (from the SyncRun rows); no token made more requests in any budget
window than its limit (counted at the simulator, which answered no 429); every summary went
out exactly once (one ReportDelivery per subscription and period, one message per address in
the mail files); the incremental syncs finished before the back-fills did.

Recovery timings are scaled down through the operator's variables (README, Production), as in
`tests/e2e/test_e2e_production.py`: CELERY_VISIBILITY_TIMEOUT, SYNC_STALE_HEARTBEAT_SECONDS,
the budget window (SYNC_BUDGET_WINDOW) and the dispatcher's period and batch
(SYNC_DISPATCH_SECONDS / _BATCH).
"""
from __future__ import annotations

import contextlib
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from celery import Celery

from sync.simulator import Simulator
from tests.support.fleet import FleetSpec, mail_recipients, requests_per_window
from tests.support.fleet_net import fleet_hosts
from tests.support.processes import (
    Processes,
    manage,
    needs_services,
    procfile,
    production_env,
    scratch_services,
    wait_for,
)

pytestmark = [pytest.mark.e2e, needs_services]

ENVIRONMENTS, LIMIT, WINDOW = 200, 20, 10.0
OVERLAPS = """
SELECT count(*) FROM (
  SELECT finished_at, lead(started_at) OVER (PARTITION BY environment_id
                                             ORDER BY started_at, id) AS next_start
  FROM sync_syncrun) r
WHERE finished_at IS NULL OR finished_at > next_start"""
# host: (Procfile process, queues, concurrency)
HOSTS = [("worker", "sync", 1), ("backfill", "backfill", 2), ("backfill", "backfill", 2),
         ("backfill", "backfill", 2),
         ("email", "email,alerts", 2)]
KILLED = 2


def _worker_command(process: str, queues: str, concurrency: int, host: int) -> str:
    command = procfile()[process]
    command = command.replace("%h", f"fleet-h{host}")
    command = command.replace(f"--queues {process if process != 'worker' else 'sync'}",
                              f"--queues {queues}")
    assert f"--queues {queues}" in command
    return command.split(" --concurrency")[0] + f" --concurrency {concurrency} --loglevel INFO"


def _syncing_on(publisher: Celery, host: int) -> list[int]:
    """The environments whose syncs the back-fill worker of `host` is running now (its
    active tasks, asked through the broker; none when it does not answer within a second)."""
    name = f"backfill@fleet-h{host}"
    active = publisher.control.inspect(destination=[name], timeout=1.0).active() or {}
    # Every sync task takes the environment's id first (`sync/tasks.py`).
    found = [(task.get("args") or [None])[0] or task.get("kwargs", {}).get("environment_id")
             for task in active.get(name, [])]
    return [pk for pk in found if isinstance(pk, int)]


def _frozen_mid_run(procs: Processes, publisher: Celery, db: Db) -> bool:
    """Freeze the host to kill (SIGSTOP to its process group) when one of its runs is running;
    True when it is frozen so. Asked of the host itself (its active tasks), since the fleet's
    running back-fills can all be on the other hosts; and checked once it is frozen, since a
    run seen on it can end before a kill lands (runs here last a fraction of a second): a
    frozen host ends nothing, so the run it is killed in stays running, for the fleet to see
    dead. A run counts when it began before the host was asked: a later one of the same
    environment is another host's."""
    asked_at = db.value("SELECT clock_timestamp()")
    syncing = _syncing_on(publisher, KILLED)
    if not syncing:
        return False
    procs.send(f"h{KILLED}", signal.SIGSTOP)
    running = 0
    try:
        running = db.value("SELECT count(*) FROM sync_syncrun WHERE status = 'running' AND "
                           "environment_id = ANY(%s) AND started_at < %s", syncing, asked_at)
    finally:
        if not running:
            procs.send(f"h{KILLED}", signal.SIGCONT)
    return bool(running)


class Db:
    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)

    def value(self, sql: str, *params: object) -> object:
        return self.conn.execute(sql, params).fetchone()[0]

    def converged(self) -> int:
        return self.value("SELECT count(*) FROM portal_environment "
                          "WHERE last_synced_at IS NOT NULL")

    def stragglers(self) -> str:
        """The environments not converged and their runs, oldest first: what a timeout says."""
        rows = self.conn.execute(
            "SELECT e.name, r.stream, r.trigger, r.status, r.started_at::time(0), "
            "r.finished_at::time(0), r.requests, left(r.error, 120), left(r.details::text, 200) "
            "FROM portal_environment e LEFT JOIN sync_syncrun r ON r.environment_id = e.id "
            "WHERE e.last_synced_at IS NULL ORDER BY e.name, r.started_at").fetchall()
        return "\n".join(" | ".join(str(v) for v in row) for row in rows)


def test_a_fleet_converges_fairly_and_survives_a_killed_host(tmp_path):
    started = time.monotonic()
    phases: list[str] = []

    def phase(name: str) -> None:
        phases.append(f"{name} {time.monotonic() - started:.0f}s")

    end = (datetime.now(UTC) - timedelta(days=1)).date()
    spec = FleetSpec(ENVIRONMENTS, calls_per_day=6, days=2, end=end.isoformat(),
                     requests_per_window=LIMIT)
    sim = Simulator(spec.config())
    sim.faults = f"ratelimit={LIMIT}:{WINDOW:g}"  # the upstream's own limit, per token
    with scratch_services("fleet") as (database_url, redis_url), \
            fleet_hosts(len(HOSTS), {5432: 5432, 6379: 6379}) as hosts:
        print(f"hosts: {'network namespaces' if hosts.isolated else hosts.why}")
        server = sim.serve(hosts.gateway, 0)
        spec.base_url = server.talkover_url
        now = datetime.now(UTC)
        spec.summaries_due = tuple((now + timedelta(seconds=15 + i)).isoformat()
                                   for i in range(ENVIRONMENTS // spec.per_org))
        local = production_env(
            database_url, redis_url, tmp_path, UPSTREAM_ALLOWED_HOSTS=hosts.gateway,
            CELERY_VISIBILITY_TIMEOUT="25", CELERY_UNACKED_RESTORE_INTERVAL="1",
            SYNC_STALE_HEARTBEAT_SECONDS="20", SYNC_BUDGET_WINDOW=f"{WINDOW:g}",
            SYNC_DISPATCH_SECONDS="3", SYNC_DISPATCH_BATCH="30")
        remote = {**local, "DATABASE_URL": hosts.service_url(database_url),
                  "REDIS_URL": hosts.service_url(redis_url)}
        procs = Processes(tmp_path, remote)
        db = Db(database_url)
        # Not the current app: the suite's tasks (`shared_task`) would publish to this broker
        # in every later test of this worker.
        publisher = Celery("fleet-test", broker=redis_url, set_as_current=False)
        try:
            phase("services")
            # The workers start while the database is migrated (they touch it only per task;
            # a dispatch before the tables exist fails and the next tick runs again).
            for i, (process, queues, concurrency) in enumerate(HOSTS):
                command = _worker_command(process, queues, concurrency, i)
                procs.start(f"h{i}", hosts.wrap(i, ["sh", "-c", command]))
            manage(local, "migrate", "--no-input")
            phase("migrated")
            ids = spec.run("seed", local)
            phase("seeded")
            procs.start("beat", hosts.wrap(0, ["sh", "-c", procfile()["beat"]]))

            # "Sync now" for a few finished environments while the back-fills go on (small
            # ones: a big one's deferred back-fill may still be redelivered once, and a sync
            # that finds the lock held is skipped, as a second click would be).
            # A deadline, not a pace: on a loaded 2-core host (two suites side by side) the
            # first 20 took over 90 s; the pace is what the fairness checks below measure.
            wait_for(lambda: db.converged() >= 20, 180, "the first back-fills")
            phase("20 synced")
            manual = db.conn.execute(
                "SELECT id FROM portal_environment WHERE last_synced_at IS NOT NULL AND "
                "substring(name FROM 7)::int % 10 >= 3 ORDER BY id LIMIT 3").fetchall()
            assert len(manual) == 3
            for (pk,) in manual:
                publisher.send_task("sync.sync_environment", args=[pk],
                                    kwargs={"trigger": "manual"}, queue="sync")

            # Kill a back-fill host while back-fills run, one of them on that host.
            wait_for(lambda: db.converged() >= ENVIRONMENTS // 4 and db.value(
                "SELECT count(*) FROM sync_syncrun WHERE status = 'running' "
                "AND trigger = 'backfill'") >= 4 and _frozen_mid_run(procs, publisher, db),
                90, "a quarter converged, back-fills busy, one on the host to kill")
            procs.stop(f"h{KILLED}", signal.SIGKILL, timeout=10)
            killed_at = db.converged()
            phase(f"killed at {killed_at}")
            assert killed_at < ENVIRONMENTS, "killed midway"

            # Several dispatchers race to send the summaries: the email host's two processes
            # and, on another host, the command an operator would run.
            def send_passes() -> bool:
                for _ in range(3):
                    publisher.send_task("reports.send_due_summaries", queue="email")
                # A claimed subscription's next run is half a day on (tests/support/fleet.py).
                return db.value("SELECT count(*) FROM reports_reportsubscription WHERE "
                                "next_run_at > now() + interval '1 hour'") == \
                    len(spec.summaries_due)
            wait_for(lambda: time.time() > datetime.fromisoformat(
                spec.summaries_due[0]).timestamp(), 60, "the first summary to come due")
            procs.start("send-summaries", hosts.wrap(1, [
                sys.executable, "manage.py", "send_summaries"]))
            wait_for(send_passes, 90, "every summary claimed", every=1.0)
            phase("summaries claimed")
            # A bound, not a pace: on a slow host beside the whole suite the last back-fills
            # took over 150 s (CI of this stop, host ~1.3x slower than usual); what is checked
            # is the mirror below, once they have all converged.
            try:
                wait_for(lambda: db.converged() == ENVIRONMENTS, 300, "every environment synced")
            except AssertionError as timed_out:
                raise AssertionError(f"{timed_out}: {db.converged()} of {ENVIRONMENTS} "
                                     f"converged; {', '.join(phases)}\n"
                                     f"{db.stragglers()}") from None
            phase("all synced")
            wait_for(lambda: db.value("SELECT count(*) FROM reports_reportdelivery "
                                      "WHERE status = 'sent'") == len(spec.summaries_due),
                     60, "every summary sent")
            wait_for(lambda: db.value("SELECT count(*) FROM sync_syncrun WHERE trigger = "
                                      "'manual' AND stream = 'callback_days' AND status = "
                                      "'succeeded'") == len(manual), 60, "the manual syncs")
            wait_for(lambda: db.value("SELECT count(*) FROM sync_syncrun "
                                      "WHERE status = 'running'") == 0, 30, "runs to end")
            phase("runs ended")

            # Every environment converges exactly.
            assert len(ids) == ENVIRONMENTS
            assert spec.run("check", local) == {}
            # None synced twice at once; the killed host's runs are marked dead, not running.
            assert db.value(OVERLAPS) == 0, "two syncs of one environment overlapped"
            assert db.value("SELECT count(*) FROM sync_syncrun WHERE error LIKE "
                            "'worker stopped: no heartbeat%%'") >= 1
            # The budget held for every token, and big environments deferred rather than
            # waiting in a worker slot.
            log = server.request_log
            assert server.request_count == len(log), "the request log kept every request"
            assert [e for e in log if e.status == 429] == []
            per_window = requests_per_window(log, WINDOW)
            assert len(per_window) == ENVIRONMENTS and max(per_window.values()) <= LIMIT
            assert db.value("SELECT count(*) FROM sync_syncrun WHERE status = 'deferred'") > 0
            # Every summary once, whoever dispatched it.
            recipients = mail_recipients(tmp_path / "mail")
            assert sorted(recipients.values()) == [1] * len(spec.summaries_due), recipients
            assert db.value("SELECT count(DISTINCT (subscription_id, period_start)) FROM "
                            "reports_reportdelivery") == len(spec.summaries_due)
            # The incremental syncs were not held behind the back-fill queue.
            assert db.value(
                "SELECT max(finished_at) FROM sync_syncrun WHERE trigger = 'manual'") < \
                db.value("SELECT max(finished_at) FROM sync_syncrun WHERE trigger = 'backfill'")
            phase("checked")
            print(f"fleet: {server.request_count} requests; " + ", ".join(phases))
        finally:
            publisher.close()
            db.conn.close()
            for name in list(procs.running):  # all at once: nothing is checked after this
                with contextlib.suppress(ProcessLookupError):
                    procs.send(name, signal.SIGKILL)
            procs.stop_all()
            server.stop()
