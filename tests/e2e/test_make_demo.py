"""The README's first promise on a fresh machine: `make demo` with no DATABASE_URL and no
REDIS_URL serves the login page on the embedded PostgreSQL it starts itself (calls in month
partitions, the trigram index in place), and `make stop` stops that server cleanly.

It runs `make demo` as written, with its var directory (SWITCHBOARD_VAR_DIR) in a temporary
directory so a developer's own demo is never touched; CI runs it (.ci/run) beside the suite.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests

from portal import embedded_db
from tests.support.embedded_dirs import embedded_dir
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(),
                                reason="needs the README's .venv (make install)")


def _login_page(url: str, proc: subprocess.Popen, seconds: float,
                lines: list[str]) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("make demo stopped before serving:\n" + "".join(lines))
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(0.5)
    raise AssertionError(f"no login page at {url} after {seconds:.0f} s")


@pytest.fixture
def var():
    with embedded_dir("switchboard-demo-") as root:
        yield root


def test_make_demo_serves_on_the_embedded_postgresql_and_make_stop_stops_it(var):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                        "PYTEST_CURRENT_TEST"}}
    env.update(SWITCHBOARD_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(["make", "demo", f"PORT={port}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        page = _login_page(f"http://127.0.0.1:{port}/accounts/login/", proc, 600, lines)
        assert page.status_code == 200 and "csrfmiddlewaretoken" in page.text
        # The portal serves while the history loads: no "Ready" yet, the "Serving" line is out.
        assert not any(line.startswith("Ready") for line in lines), "".join(lines)
        assert any("Serving at http://" in line for line in lines), "".join(lines)
        deadline = time.monotonic() + 600
        while not any(line.startswith("Ready") for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.5)
        time.sleep(1)  # nothing follows the Ready line
        assert lines[-1].startswith("Ready: open"), "".join(lines)
        assert sum(line.startswith("Ready") for line in lines) == 1, "".join(lines)
        assert any("History loaded" in line for line in lines[:-1]), "".join(lines)
        with psycopg.connect(embedded_db.ensure_running(var / "postgres")) as conn:
            assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                "'sync_call'::regclass").fetchone()[0] > 0
            assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"
                                ).fetchone()
            assert conn.execute("SELECT count(*) FROM sync_call").fetchone()[0] > 1000
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    assert (var / "postgres" / "postmaster.pid").exists(), "the server outlives the demo"
    stopped = subprocess.run(["make", "stop"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not (var / "postgres" / "postmaster.pid").exists()
