"""Helpers for tests that run the production processes for real (make serve, e2e).

They need PostgreSQL and Redis (the CI machine has both): each test gets its own scratch
database, derived from DATABASE_URL (`<name>_<suffix>`, created and dropped by the test), and
its own Redis db (DATABASE_URL's Redis db + 2, flushed before and after), so other test runs
on the same servers are untouched.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent

needs_services = pytest.mark.skipif(
    not os.environ.get("REDIS_URL", "").startswith("redis"),
    reason="starts real gunicorn/Celery processes: needs REDIS_URL (Redis), as CI sets it",
)


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


@contextmanager
def scratch_database(suffix: str, migrated: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database next to DATABASE_URL's; dropped afterwards. `migrated`: a
    copy of the suite's migrated template (tests/support/template_db.py), for tests whose
    subject is not migrating (a fresh `migrate` cost 7.1 s of CPU, a copy's 1.7 s:
    docs/testing.md; the README walk, `make demo`, `make serve` and the fleet still migrate
    theirs from nothing)."""
    from tests.support.template_db import ensure_template  # it imports this module

    base = os.environ["DATABASE_URL"]
    name = urlsplit(base).path.lstrip("/") + "_" + suffix
    admin_url = with_path(base, "/postgres")
    template = f' TEMPLATE "{ensure_template(base)}"' if migrated else ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield with_path(base, f"/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_redis() -> Iterator[str]:
    """REDIS_URL's server, db number + 2, flushed before and after."""
    base = os.environ["REDIS_URL"]
    db = (int(urlsplit(base).path.lstrip("/") or 0) + 2) % 16
    url = with_path(base, f"/{db}")
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def procfile() -> dict[str, str]:
    """The Procfile's process commands, by name."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen]:
    """A throw-away redis-server on `port` (no persistence). On exit it is resumed if a test
    froze it (SIGSTOP) and killed if still running."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            proc.kill()
        proc.wait(timeout=10)


def production_env(database_url: str, redis_url: str, var_dir: Path, **extra: str) -> dict:
    """The environment an operator sets for `make serve` (DEBUG=false, real services)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update({
        "DEBUG": "false",
        "SECRET_KEY": "e2e-" + "k" * 60,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The simulator listens on loopback: an operator would allow-list such a host.
        "UPSTREAM_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # dj-email-url drops the path's first slash: four make an absolute path (three
        # wrote the mail under the working directory, the checkout).
        "EMAIL_URL": f"file:///{var_dir / 'mail'}",
        "SWITCHBOARD_VAR_DIR": str(var_dir),
        "CACHE_KEY_PREFIX": "e2e",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env


class Processes:
    """Subprocesses started in their own sessions, logs to files, all stopped at the end."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], **env: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115  (closed with the proc)
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log_file = log  # type: ignore[attr-defined]
        self.running[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def send(self, name: str, sig: int) -> None:
        """Signal the process group, as a terminal or a process manager does."""
        os.killpg(self.running[name].pid, sig)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Stop one process (its whole group); return its exit status."""
        proc = self.running.pop(name)
        self._killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
            # The shell may go first; wait for everything in its group (workers' children).
            wait_for(lambda: not group_alive(proc.pid), timeout, f"{name}'s processes to end")
        except (subprocess.TimeoutExpired, AssertionError):
            self._killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
            raise AssertionError(f"{name} did not stop within {timeout}s") from None
        finally:
            proc.log_file.close()  # type: ignore[attr-defined]
        return proc.returncode

    def stop_all(self) -> None:
        for name in list(self.running):
            try:
                self.stop(name, timeout=10)
            except AssertionError:
                pass

    @staticmethod
    def _killpg(pid: int, sig: int) -> None:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies of our children count as
    gone once reaped by `wait`)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.3) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001  (not up yet: keep polling)
            last_error = exc
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last_error!r})")


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run a management command against the processes' database; return stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stderr}"
    return result.stdout


MIRROR_CHECK = """
import json, sys
from datetime import date
import django
django.setup()
from portal.models import Environment
from sync.simulator import Simulator, SimulatorConfig
from tests.support.sync_support import mirror_diff
env_id, seed, days, per_day, end, token, key = sys.argv[1:]
sim = Simulator(SimulatorConfig(seed=int(seed), days=int(days), calls_per_day=int(per_day),
                                end_date=date.fromisoformat(end), tokens={key: token}))
print(json.dumps(mirror_diff(Environment.objects.get(pk=int(env_id)), sim, key)))
"""


class Mirror:
    """Read-only SQL on the processes' database (the test's own Django uses another one)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection | None = None

    @property
    def conn(self) -> psycopg.Connection:
        """Connected on first use, and again after `close` (a test that drops the database)."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def value(self, sql: str, *params: object) -> object:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def calls(self, env_id: int) -> int:
        return self.value("SELECT count(*) FROM sync_call WHERE environment_id = %s", env_id)

    def running_calls_pages(self, env_id: int) -> int | None:
        return self.value("SELECT max(pages) FROM sync_syncrun WHERE environment_id = %s "
                          "AND stream = 'calls' AND status = 'running'", env_id)


@contextmanager
def scratch_services(suffix: str, migrated: bool = False) -> Iterator[tuple[str, str]]:
    """A scratch database (`scratch_database(suffix, migrated)`) and Redis db: their URLs."""
    with scratch_database(suffix, migrated) as database_url, scratch_redis() as redis_url:
        yield database_url, redis_url


@dataclass(frozen=True)
class Upstream:
    """What the simulator serves: one Talkover workspace's seeded days, ending on `end`."""

    seed: int
    days: int
    calls_per_day: int
    end: date
    token: str
    workspace: str = "acme-sales"  # the simulator's first workspace: --token sets its token

    def args(self) -> list[str]:
        return ["--seed", str(self.seed), "--days", str(self.days), "--calls-per-day",
                str(self.calls_per_day), "--end-date", self.end.isoformat(), "--token",
                self.token]

    def call_count(self) -> int:
        from sync.simulator import Simulator, SimulatorConfig

        sim = Simulator(SimulatorConfig(
            seed=self.seed, days=self.days, calls_per_day=self.calls_per_day, end_date=self.end,
            tokens={self.workspace: self.token}))
        return sim.truth.call_count(self.workspace)


@dataclass
class Stack:
    """A production process set on scratch services: its environment, processes and mirror."""

    env: dict[str, str]
    procs: Processes
    mirror: Mirror
    database_url: str

    def manage(self, *args: str, stdin: str | None = None) -> str:
        return manage(self.env, *args, stdin=stdin)

    def simulator(self, upstream: Upstream, *extra: str) -> int:
        """Start `manage.py simulate_upstream` serving `upstream` (`extra` arguments added)
        on a free port: the port."""
        port = free_port()
        self.procs.start("simulator", [
            sys.executable, "manage.py", "simulate_upstream", "--port", str(port),
            *upstream.args(), *extra])
        return port

    def add_talkover(self, org: str, port: int, token: str) -> int:
        """`manage.py addenv` of a Talkover environment on the simulator at `port`: its id."""
        out = manage(self.env, "addenv", org, "Sales", "--provider", "talkover",
                     "--base-url", f"http://127.0.0.1:{port}/api/v1", "--token-stdin",
                     stdin=token + "\n")
        return int(re.search(r"Added environment (\d+)", out).group(1))

    def assert_mirror_is(self, env_id: int, upstream: Upstream) -> None:
        """The environment's mirror equals the upstream's ground truth, table by table."""
        check = subprocess.run(
            [sys.executable, "-c", MIRROR_CHECK, str(env_id), str(upstream.seed),
             str(upstream.days), str(upstream.calls_per_day), upstream.end.isoformat(),
             upstream.token, upstream.workspace],
            cwd=ROOT, env={**self.env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
            capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stderr
        assert json.loads(check.stdout) == [], "the mirror differs from the upstream"


@contextmanager
def production_stack(suffix: str, tmp_path: Path, *, migrated: bool = True,
                     **extra: str) -> Iterator[Stack]:
    """Scratch services (the database already migrated unless `migrated` is false:
    `scratch_database`), the production environment on them (`extra` added), processes that
    are all stopped and a mirror connection that is closed at the end."""
    with scratch_services(suffix, migrated) as (database_url, redis_url):
        env = production_env(database_url, redis_url, tmp_path, **extra)
        stack = Stack(env, Processes(tmp_path, env), Mirror(database_url), database_url)
        try:
            yield stack
        finally:
            stack.mirror.close()
            stack.procs.stop_all()
