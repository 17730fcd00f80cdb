"""A primary and a streaming standby of the embedded PostgreSQL, a portal served on them, and
what the tests read from each server's own statistics.

The primary is the embedded server (`portal.embedded_db.ensure_running`) with
pg_stat_statements loaded; the standby is `pg_basebackup -R` of it, started read-only
(`portal.embedded_db.start_standby`). The portal's commands (migrate, the tenant commands, the
sync) run against the primary as an operator runs them; `runserver` serves with
`DATABASE_REPLICA_URLS` naming the standby.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from portal import embedded_db
from tests.support.embedded_dirs import embedded_dir
from tests.support.processes import ROOT, Processes, free_port, wait_for

STATEMENTS = ("shared_preload_libraries=pg_stat_statements",)
# The simulator's token for acme-sales at its default seed (README, "The first hour").
TALKOVER_TOKEN = "talq_56c73eae17ff52d460a4a2ba66974fe817db695f"
PASSWORD = "replica-test-password"
# The tables only report reads touch (rollups): who read them says where reports ran.
REPORT_TABLES = ("sync_callrollup", "sync_agentdayrollup")


def sql(url: str, statement: str, *params: object) -> list[tuple]:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


def report_statements(url: str) -> int:
    """Calls of statements reading the report tables on one server since its last reset."""
    condition = " OR ".join(f"query ILIKE '%%{table}%%'" for table in REPORT_TABLES)
    return int(sql(url, "SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements "
                        f"WHERE ({condition}) AND query NOT ILIKE '%%pg_stat_statements%%'"
                   )[0][0])


def reset_statements(*urls: str) -> None:
    for url in urls:
        sql(url, "SELECT pg_stat_statements_reset()")


def idle_connections(url: str) -> list[tuple]:
    """Connections to the portal's database that sit idle, this one aside: (their last
    statement, when they started)."""
    return sql(url, "SELECT left(query, 120), backend_start FROM pg_stat_activity "
                    "WHERE datname = 'switchboard' AND state = 'idle' "
                    "AND pid <> pg_backend_pid()")


def replayed_everything(primary: str, standby: str) -> bool:
    """Whether the standby has replayed every commit the primary has made so far."""
    (lsn,), = sql(primary, "SELECT pg_current_wal_lsn()::text")
    (done,), = sql(standby, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", lsn)
    return bool(done)


def server_pids(data: Path) -> list[int]:
    """The postmaster of `data` and every process it started."""
    postmaster = int((data / "postmaster.pid").read_text().splitlines()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True,
                              text=True).stdout.split()
    return [postmaster, *map(int, children)]


def signal_server(data: Path, sig: int) -> None:
    for pid in server_pids(data):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


@dataclass
class Served:
    """The pair and the portal served on it."""

    root: Path
    primary: str
    standby: str
    base: str
    env: dict[str, str]
    processes: Processes
    api: requests.Session = field(default_factory=requests.Session)
    browser: requests.Session = field(default_factory=requests.Session)

    @property
    def standby_data(self) -> Path:
        return self.root / "standby"

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                input=stdin, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stderr}"
        return result.stdout

    def get(self, path: str, session: requests.Session | None = None) -> requests.Response:
        return (session or self.api).get(self.base + path, timeout=30)

    def ready(self) -> dict:
        return requests.get(self.base + "/readyz", timeout=10).json()

    def replica_state(self) -> str:
        return self.ready()["replicas"]["replica_1"]["state"]

    def post_form(self, path: str, data: dict[str, str]) -> requests.Response:
        """A signed-in member's form post (CSRF token from the cookie)."""
        return self.browser.post(self.base + path, timeout=30, allow_redirects=False,
                                 data={**data, "csrfmiddlewaretoken":
                                       self.browser.cookies["csrftoken"]})

    def log_in(self) -> None:
        page = self.browser.get(self.base + "/accounts/login/", timeout=30)
        assert page.status_code == 200
        answer = self.browser.post(
            self.base + "/accounts/login/", timeout=30, allow_redirects=False,
            data={"username": "alice", "password": PASSWORD,
                  "csrfmiddlewaretoken": self.browser.cookies["csrftoken"]})
        assert answer.status_code == 302, answer.text[:500]


def _base_env(root: Path, primary: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "DJANGO_")) and k not in {"REDIS_URL"}}
    env.update(DATABASE_URL=primary, SWITCHBOARD_VAR_DIR=str(root / "var"),
               PYTHONUNBUFFERED="1", TASKS_IN_BACKGROUND="false")
    return env


@contextmanager
def served_pair(**server_env: str) -> Iterator[Served]:
    """A primary and its standby, a simulator, Acme's Sales environment synced into the
    primary, and `runserver` reading reports from the standby (`server_env` added)."""
    with embedded_dir("switchboard-replicas-") as root:
        primary = embedded_db.ensure_running(root / "postgres", fast=True, settings=STATEMENTS)
        processes = Processes(root, _base_env(root, primary))
        try:
            yield _serve(root, primary, processes, server_env)
        finally:
            processes.stop_all()
            if (root / "standby" / "postmaster.pid").exists():
                signal_server(root / "standby", signal.SIGCONT)
                embedded_db.stop(root / "standby")


def _serve(root: Path, primary: str, processes: Processes, server_env: dict[str, str]
           ) -> Served:
    served = seed_portal(root, primary, processes)
    port = int(primary.rsplit(":", 1)[1].split("/")[0])
    served.standby = embedded_db.start_standby(port, root / "standby", settings=STATEMENTS)
    wait_for(lambda: replayed_everything(primary, served.standby), 60, "the standby to replay")
    start_web(served, DATABASE_REPLICA_URLS=served.standby, **server_env)
    wait_for(lambda: served.ready()["replicas"]["replica_1"]["state"] == "ok", 90,
             "the portal to read the standby")
    return served


def seed_portal(root: Path, database: str, processes: Processes) -> Served:
    """The simulator, then as an operator would on `database`: migrate, Acme with alice, its
    Sales environment synced (3 days), and an API token."""
    env = {**processes.env, "DATABASE_URL": database}
    processes.env = env
    sim_port = free_port()
    served = Served(root, database, "", f"http://127.0.0.1:{free_port()}", env, processes)
    processes.start("simulator", [sys.executable, "manage.py", "simulate_upstream", "--port",
                                  str(sim_port), "--days", "3", "--calls-per-day", "40"])
    served.manage("migrate", "--no-input")
    sql(embedded_url_of(root), "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    wait_for(lambda: requests.get(f"http://127.0.0.1:{sim_port}/", timeout=2).status_code,
             60, "the simulator")
    served.manage("createorg", "acme", "--name", "Acme Voice", "--timezone", "UTC")
    served.manage("addmember", "acme", "alice", "--role", "owner", "--email", "a@example.com",
                  "--password-stdin", stdin=PASSWORD + "\n")
    served.manage("addenv", "acme", "Sales", "--provider", "talkover", "--base-url",
                  f"http://127.0.0.1:{sim_port}", "--token-stdin", stdin=TALKOVER_TOKEN + "\n")
    served.manage("sync", "--org", "acme", "--backfill-days", "3")
    token = served.manage("issuetoken", "alice", "--name", "replicas").strip()
    served.api.headers["Authorization"] = f"Bearer {token}"
    return served


def embedded_url_of(root: Path) -> str:
    return embedded_db.ensure_running(root / "postgres")


def start_web(served: Served, **server_env: str) -> None:
    """`runserver` on the served address (`server_env` added), waited for, alice logged in."""
    served.processes.start("web", [sys.executable, "manage.py", "runserver", "--noreload",
                                   served.base.removeprefix("http://")], **server_env)
    wait_for(lambda: served.ready(), 90, "the portal to serve")
    served.log_in()


def touch(primary: str) -> None:
    """A commit on the primary (its replay moment is then now, once replayed)."""
    sql(primary, "SELECT txid_current()")


def wait_replayed(served: Served, seconds: float = 30) -> None:
    touch(served.primary)
    wait_for(lambda: replayed_everything(served.primary, served.standby), seconds,
             "the standby to replay the primary")

