"""The command line speaks one way: every option of our commands has help text, `sync`
takes the stream names the README gives, errors are one `Error: …` line (wrong input, a
missing organisation, usage mistakes alike), `sync --org nope` says the organisation does
not exist, and a sync against an unreachable base URL gives up in seconds naming the host."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from tests.e2e.test_newcomer import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
OURS = ("portal", "sync", "reports")
# Django's own options every command carries (its help texts are Django's).
DJANGO_OPTIONS = {"help", "version", "verbosity", "settings", "pythonpath", "traceback",
                  "no_color", "force_color", "skip_checks"}


def our_commands() -> list[tuple[str, str]]:
    return sorted((name, app) for name, app in get_commands().items() if app in OURS)


@pytest.mark.parametrize("name,app", our_commands())
def test_every_option_has_help(name, app):
    command = load_command_class(app, name)
    parser = command.create_parser("manage.py", name)
    missing = [action.dest for action in parser._actions
               if action.dest not in DJANGO_OPTIONS and not action.help]
    assert not missing, f"{name}: {missing}"
    assert command.help


def test_the_stream_names_are_the_readmes():
    readme = (ROOT / "README.md").read_text()
    assert "[--stream agents|calls|callbacks]" in readme
    parser = load_command_class("sync", "sync").create_parser("manage.py", "sync")
    stream = next(a for a in parser._actions if a.dest == "streams")
    assert list(stream.choices) == ["agents", "calls", "callbacks"]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_errors_are_one_line_in_one_style(transactional_db, subprocess_env):
    # On the test database (the subprocesses see its committed rows); before `migrate` the
    # same style is checked by tests/e2e/test_newcomer.py.
    env = subprocess_env
    nope = manage("sync", "--org", "nope", env=env)
    usage = manage("sync", "--stream", "everything", env=env)
    ghost = manage("issuetoken", "ghost", env=env)
    for result in (nope, usage, ghost):
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "No organisation 'nope'" in nope.stderr
    assert "--stream" in usage.stderr

    assert manage("createorg", "acme", "--name", "Acme", env=env).returncode == 0
    port = free_port()  # nothing listens there
    added = subprocess.run(
        [sys.executable, "manage.py", "addenv", "acme", "Dead", "--provider", "talkover",
         "--base-url", f"http://127.0.0.1:{port}", "--token-stdin", "--no-check"],
        cwd=ROOT, env=env, input="talq_dead_token_123456\n", capture_output=True, text=True,
        timeout=60)
    assert added.returncode == 0, added.stderr
    started = time.monotonic()
    dead = manage("sync", "--org", "acme", "--no-progress", env=env)
    took = time.monotonic() - started
    # Two connection attempts per stream, not six with backoff (a minute before): the time
    # bound is loose for a loaded machine, the request count is exact.
    runs = [re.split(r"\s{2,}", line.strip()) for line in dead.stdout.splitlines()
            if "failed" in line]
    assert [(run[1], run[4]) for run in runs] == [
        ("agents", "2"), ("calls", "2"), ("callback_days", "2")], dead.stdout
    assert dead.returncode != 0 and took < 45, (took, dead.stderr)
    assert f"cannot reach 127.0.0.1:{port} (connection refused)" in dead.stderr
    assert dead.stderr.strip().splitlines()[-1].startswith("Error: ")
