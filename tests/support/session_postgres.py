"""A test session's own embedded PostgreSQL when DATABASE_URL is unset (`make test` on a fresh
clone, with nothing installed): the suite runs on the engine production runs, never skipping
a partition, trigram or trigger test.

Loaded as a plugin (`-p tests.support.session_postgres` in pyproject's addopts) so it runs
before pytest-django reads the settings. The controlling process starts the server in a
temporary directory the server's user can reach (`embedded_db.scratch_dir`; no durability:
fsync off) and sets DATABASE_URL; xdist's workers and every
command a test starts inherit it, so they share the one server (each worker its own test
database, as on any PostgreSQL). The controller stops the server and removes its directory at
the end of the session. The demo's server under var/postgres is never touched.
"""
from __future__ import annotations

import atexit
import os
import shutil
from pathlib import Path

from portal import embedded_db

_data: Path | None = None


def _stop() -> None:
    """At the controller's exit, however the session ended (a failed start-up, Ctrl-C)."""
    if _data is not None:
        if _data.exists():
            embedded_db.stop(_data)
        shutil.rmtree(_data.parent, ignore_errors=True)  # also after a failed initdb


if not os.environ.get("DATABASE_URL") and not os.environ.get("PYTEST_XDIST_WORKER"):
    _data = embedded_db.scratch_dir("switchboard-test-pg-") / "data"
    atexit.register(_stop)  # before starting: a start that fails leaves nothing behind
    os.environ["DATABASE_URL"] = embedded_db.ensure_running_or_exit(_data, fast=True)
