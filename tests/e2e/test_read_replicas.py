"""Reports served from a real streaming standby: a primary and a `pg_basebackup -R` standby of
the embedded PostgreSQL, the sync writing into the primary, `runserver` with
DATABASE_REPLICA_URLS naming the standby (portal/replicas.py).

- report requests (pages, the reports API, the Talkover-compatible API, CSV) run on the
  standby: its own pg_stat_statements count the report tables' statements, the primary's do
  not move;
- with replay paused past REPLICA_MAX_LAG, a sync into the primary is what the next reports
  show: they are read from the primary, "as of" its last sync;
- a standby frozen, killed or promoted away mid-traffic costs no request an error, and
  /readyz names its state.
"""
from __future__ import annotations

import signal
import threading
from datetime import date, timedelta

import pytest
import requests

from portal import embedded_db
from tests.support.processes import wait_for
from tests.support.replication import (
    idle_connections,
    report_statements,
    reset_statements,
    served_pair,
    signal_server,
    sql,
    wait_replayed,
)

pytestmark = pytest.mark.xdist_group("processes")
MAX_LAG = 4


@pytest.fixture(scope="module")
def served():
    with served_pair(REPLICA_MAX_LAG=str(MAX_LAG), REPLICA_CHECK_SECONDS="0.5",
                     REPLICA_RETRY_SECONDS="2", DB_CLIENT_DEADLINE_SECONDS="4") as pair:
        yield pair


def _days_back(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def report_requests(api, browser, round_: int) -> list[tuple[str, object]]:
    """One of every report face, each over a range no earlier request asked (no cache hit)."""
    start, today = _days_back(2 + round_ % 20), _days_back(0)
    return [
        (f"/api/v1/reports/calls/?environment=1&start_date={start}", api),
        (f"/api/v1/reports/callbacks/?environment=1&start_date={start}", api),
        (f"/api/v1/reports/calls/?environment=1&start_date={start}&format=csv&table=agents",
         api),
        (f"/api/v1/environments/1/callback-agents/stats?start_date={start}", api),
        (f"/api/v1/environments/1/calls?start_date={start}", api),
        (f"/o/acme/?start={start}&end={today}", browser),
        (f"/o/acme/agents/?start={start}&end={today}", browser),
        (f"/o/acme/live/data/?r={round_}", browser),
    ]


FACES = 8


def fetch_all(served, round_: int) -> list[int]:
    return [served.get(path, session).status_code
            for path, session in report_requests(served.api, served.browser, round_)]


def as_of(served, round_: int) -> str:
    report = served.get(f"/api/v1/reports/calls/?environment=1&start_date="
                        f"{_days_back(30 + round_ % 30)}").json()
    return report["freshness"][0]["as_of"]


def test_report_requests_run_on_the_standby_and_not_on_the_primary(served):
    wait_replayed(served)
    reset_statements(served.primary, served.standby)
    assert fetch_all(served, 0) == [200] * FACES
    on_standby, on_primary = report_statements(served.standby), report_statements(served.primary)
    print(f"report statements: standby {on_standby}, primary {on_primary}")
    assert on_standby > 0
    assert on_primary == 0
    assert served.ready()["replicas"]["replica_1"]["state"] == "ok"
    # runserver serves each client connection on a thread of its own and closes the thread's
    # database connections as it ends (portal/runserver_threads.py); before, six requests on
    # six client connections left six more idle connections on each server, kept until the
    # garbage collector ran. What stays: the two kept-alive sessions' threads (and, on the
    # primary, the main thread's start-up checks).
    for days in range(60, 66):
        assert requests.get(f"{served.base}/api/v1/reports/calls/?environment=1&start_date="
                            f"{_days_back(days)}", headers=served.api.headers,
                            timeout=30).status_code == 200
    wait_for(lambda: len(idle_connections(served.primary)) <= 3, 10,
             "the request threads' connections to the primary to close")
    wait_for(lambda: len(idle_connections(served.standby)) <= 2, 10,
             "the request threads' connections to the standby to close")


def test_a_members_own_write_reads_the_primary_for_a_while(served):
    wait_replayed(served)
    saved = served.post_form("/o/acme/live/thresholds/", {
        "answer_rate_amber": "81", "answer_rate_red": "60", "waiting_amber": "5",
        "waiting_red": "15", "oldest_wait_amber": "30", "oldest_wait_red": "120",
        "min_calls": "5"})
    assert saved.status_code == 302, saved.text[:500]
    assert "sb_read_primary" in saved.cookies
    reset_statements(served.primary, served.standby)
    page = served.get(f"/o/acme/?start={_days_back(25)}&end={_days_back(0)}", served.browser)
    assert page.status_code == 200
    assert report_statements(served.primary) > 0
    assert report_statements(served.standby) == 0
    # The API client wrote nothing: it still reads the standby.
    assert served.get(f"/api/v1/reports/calls/?environment=1&start_date={_days_back(26)}"
                      ).status_code == 200
    assert report_statements(served.standby) > 0


def test_replay_paused_past_the_lag_limit_reads_the_primary_as_of_its_last_sync(served):
    wait_replayed(served)
    before = as_of(served, 0)
    sql(served.standby, "SELECT pg_wal_replay_pause()")
    try:
        served.manage("sync", "--org", "acme")
        (synced,), = sql(served.primary, "SELECT last_synced_at FROM portal_environment")
        assert before[:19] != synced.isoformat()[:19]
        reset_statements(served.primary, served.standby)
        seen = wait_for(lambda: served.replica_state() == "lagging", 60,
                        "the standby to lag past REPLICA_MAX_LAG")
        assert seen
        answer = as_of(served, 1)
        assert answer[:19] == synced.isoformat()[:19], (answer, synced)
        assert fetch_all(served, 40) == [200] * FACES
        assert report_statements(served.primary) > 0
        assert report_statements(served.standby) == 0
        assert served.ready()["replicas"]["replica_1"]["replay_paused"] is True
    finally:
        sql(served.standby, "SELECT pg_wal_replay_resume()")
    wait_for(lambda: served.replica_state() == "ok", 60, "the standby to catch up")
    assert as_of(served, 2)[:19] == synced.isoformat()[:19]


class Traffic:
    """Report requests on threads until stopped; every status kept."""

    def __init__(self, served, threads: int = 3) -> None:
        self.served, self.statuses, self.stop = served, [], threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def _run(self, n: int) -> None:
        api, browser = requests.Session(), requests.Session()
        api.headers.update(self.served.api.headers)
        browser.cookies.update(self.served.browser.cookies)
        round_ = n
        while not self.stop.is_set():
            for path, session in report_requests(api, browser, round_):
                try:
                    self.statuses.append(self.served.get(path, session).status_code)
                except Exception as exc:  # noqa: BLE001  (a timeout is an error too)
                    self.statuses.append(type(exc).__name__)
            round_ += len(self.threads)

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(120)

    def count(self) -> int:
        return len(self.statuses)


def test_a_standby_frozen_killed_or_promoted_mid_traffic_costs_no_request(served):
    wait_for(lambda: served.replica_state() == "ok", 60, "the standby to be read")
    data = served.standby_data
    with Traffic(served) as traffic:
        wait_for(lambda: traffic.count() >= 10, 120, "traffic on the standby")
        signal_server(data, signal.SIGSTOP)  # frozen: connections hang, nothing answers
        try:
            done = traffic.count()
            wait_for(lambda: traffic.count() >= done + 20, 120, "traffic past the freeze")
            assert served.replica_state() == "down"
        finally:
            signal_server(data, signal.SIGCONT)
        wait_for(lambda: served.replica_state() == "ok", 60, "the thawed standby")
        done = traffic.count()
        wait_for(lambda: traffic.count() >= done + 10, 120, "traffic on the thawed standby")
        signal_server(data, signal.SIGKILL)  # killed: refused from now on
        done = traffic.count()
        wait_for(lambda: traffic.count() >= done + 20, 120, "traffic past the kill")
        assert served.replica_state() == "down"
    errors = [status for status in traffic.statuses if status != 200]
    print(f"{len(traffic.statuses)} requests through a frozen and a killed standby, "
          f"{len(errors)} errors")
    assert errors == []
    # Restarted, it replays again; promoted, it is no replica of this primary: never read.
    (data / "postmaster.pid").unlink(missing_ok=True)
    standby = embedded_db.ensure_running(data, settings=("shared_preload_libraries="
                                                         "pg_stat_statements",))
    assert standby.rsplit(":", 1)[1].split("/")[0] == served.standby.rsplit(":", 1)[1].split(
        "/")[0]
    wait_for(lambda: served.replica_state() == "ok", 90, "the restarted standby")
    embedded_db._run([embedded_db.program("pg_ctl"), "-D", str(data), "-w", "promote"])
    wait_for(lambda: served.replica_state() == "promoted", 60, "the promoted server's state")
    reset_statements(served.primary, served.standby)
    assert fetch_all(served, 60) == [200] * FACES
    assert report_statements(served.standby) == 0
    assert report_statements(served.primary) > 0
