"""`--help` never starts anything: with no DATABASE_URL, every command's help is printed
without initialising or starting the embedded PostgreSQL and without writing a file (the
development secrets included) under the var directory."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from portal.embedded_db import stop

ROOT = Path(__file__).resolve().parent.parent.parent

# One process prints every command's help, as `manage.py CMD --help` does (main() with that
# command line), so the whole list costs one interpreter start.
EVERY_HELP = """
import io, sys, contextlib
import manage
names = sys.argv[1:]
for name in names:
    sys.argv = ["manage.py", name, "--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            manage.main()
        except SystemExit as exc:
            assert exc.code in (0, None), (name, exc.code)
    assert "usage:" in out.getvalue(), name
print("helped", len(names))
"""


def _quiet_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SWITCHBOARD_VAR_DIR"] = str(var_dir)
    return env


def _processes_naming(path: Path) -> list[str]:
    """Command lines of live processes that mention `path` (a server started there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmdline:
            found.append(cmdline)
    return found


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_commands_help_starts_no_server_and_writes_nothing(tmp_path):
    var_dir = tmp_path / "var"
    try:
        _every_help(var_dir)
    finally:
        stop(var_dir / "postgres")  # a server a failing run started is not left running


def _every_help(var_dir: Path) -> None:
    env = _quiet_env(var_dir)
    listing = _manage(env, "help", "--commands")
    assert listing.returncode == 0, listing.stderr
    names = listing.stdout.split()
    assert {"sync", "simulate_upstream", "demo", "backup", "restore",
            "send_summaries"} <= set(names)
    # The command that started the embedded PostgreSQL, on its own process.
    alone = _manage(env, "simulate_upstream", "--help")
    assert alone.returncode == 0 and "usage:" in alone.stdout, alone.stderr
    every = subprocess.run([sys.executable, "-c", EVERY_HELP, *names], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert every.returncode == 0, every.stderr[-2000:]
    assert f"helped {len(names)}" in every.stdout
    bare = _manage(env)
    assert "Available subcommands" in bare.stdout + bare.stderr
    assert not var_dir.exists(), sorted(str(p) for p in var_dir.rglob("*"))
    assert _processes_naming(var_dir) == []
