"""The newcomer's path: every `sh` block of the README and of docs/, run exactly as written.

The README's first, then those of docs/using.md, docs/operations.md, docs/extending.md and
docs/scaling.md (the pages the README sends its reader to, in that order; a page of docs/
with an `sh` block must be listed in DOCS). The first hour, the REST examples, the privacy,
summaries' and alerts' commands run as one terminal would run them, from the repository root
on a fresh database (on the embedded PostgreSQL when DATABASE_URL is unset, as `make test` on
a fresh clone runs it; CI runs this file so too) with nothing else set up: each line is a
`bash -c` subprocess and what it exports is carried to the next line, so a block that reads a
variable must set it (or an earlier block must). Lines the README sends to
another terminal ("in a second terminal") are started in the background and stopped at the
end. The README's ports (8765 for the simulator, 8000 for the server) are swapped for free
ones, and nothing else: a demo or another server left running on 8000 must not answer in our
place. A block this test cannot run on a laptop (production services, a dump to restore) is listed
in NOT_RUN_HERE by its first line's start, with the test that runs it, so a new block is
either run here or named there. Out-of-order and bad input each get
one line and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import requests

from tests.support.processes import scratch_database

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason="needs the README's .venv")


# The sh blocks not run here (by their first line's start), and what runs them instead.
NOT_RUN_HERE = {
    "make demo": "serves until Ctrl-C; tests/e2e/test_make_demo.py runs it",
    "export DEBUG=false DATABASE_URL=postgres": "production services; tests/e2e/test_serve.py",
    "REMAP_SIGTERM=SIGQUIT celery": "needs Redis; tests/e2e/test_e2e_production.py",
    ".venv/bin/python manage.py backup /backups/":
        "needs PostgreSQL; tests/e2e/test_backup_restore.py runs the drill",
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_fleet_bench":
        "a benchmark on PostgreSQL and Redis; tests/e2e/test_e2e_fleet.py runs a fleet",
}
PORT = re.compile(r"(--port |127\.0\.0\.1:|localhost:)(\d+)")


# The pages whose blocks run, in the order they run (the README's first hour sets up what the
# others' blocks use: the database, the simulator, the server, $SBP_TOKEN).
DOCS = ("README.md", "docs/using.md", "docs/operations.md", "docs/extending.md",
        "docs/scaling.md", "docs/teams.md")


def readme_blocks() -> list[str]:
    """Every ```sh block of the README and of DOCS, in order, as written."""
    return [textwrap.dedent(block) for page in DOCS for block in re.findall(
        r"^ *```sh\n(.*?)^ *```", (ROOT / page).read_text(), flags=re.S | re.M)]


def test_every_page_with_commands_is_walked():
    """A page of docs/ with an `sh` block is one this test runs."""
    pages = {str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")
             if re.search(r"^ *```sh$", p.read_text(), flags=re.M)}
    assert pages <= set(DOCS), f"add {sorted(pages - set(DOCS))} to DOCS"


def on_free_ports(lines: list[str]) -> list[str]:
    """The lines with each port they name replaced, consistently, by a free one."""
    ports = {port: str(free_port()) for line in lines for _, port in PORT.findall(line)}
    return [PORT.sub(lambda m: m.group(1) + ports[m.group(2)], line) for line in lines]


class Terminal:
    """One shell session: each line runs in bash, and the variables it sets (exported or not,
    as `H=…` in the REST block) stay for the next line, as in a terminal."""

    def __init__(self, env: dict[str, str], scratch: Path) -> None:
        self.env = env
        self.state = scratch / "shell-state"
        self.state.write_text("")

    def run(self, line: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
        # Read-only shell variables (UID, BASHOPTS…) cannot be declared again: left out.
        script = (f'source "{self.state}" 2>/dev/null\n{line}\n__rc=$?\n'
                  f"declare -p | grep -Ev '^declare -[a-zA-Z]*r' > \"{self.state}.new\"\n"
                  f'mv "{self.state}.new" "{self.state}"; exit $__rc')
        return subprocess.run(["bash", "-c", script], cwd=cwd, env=self.env,
                              capture_output=True, text=True, timeout=180)

    def variable(self, name: str) -> str:
        return self.run(f'printf %s "${name}"').stdout

    @property
    def exported(self) -> dict[str, str]:
        """The exported variables now, for a command another terminal starts."""
        text = self.run("env -0").stdout
        return dict(item.split("=", 1) for item in text.split("\0") if "=" in item)


@pytest.fixture
def fresh_database():
    """A database nobody has migrated, on the session's server (the README's first line
    migrates it)."""
    with scratch_database(f"walk_{os.getpid()}") as url:
        yield url


def newcomer_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "PYTEST_CURRENT_TEST",
                        "DJANGO_SETTINGS_MODULE"}}
    env.update(DATABASE_URL=database_url, PYTHONUNBUFFERED="1", **extra)
    return env


def run(line: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", line], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The single line a failing command printed (asserting it is one, with no traceback)."""
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert len(output.splitlines()) == 1, output
    assert output.startswith("Error: "), output  # one style for every command (portal/cli.py)
    return output


def started(command: str, env: dict[str, str], ready: str, timeout: float = 30):
    """A long-running README line, and its output up to the line saying it is ready."""
    # Its own process group: `runserver`'s reloader child goes with it when it is stopped.
    proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if ready in line:
            return proc, "".join(lines)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError(f"{command!r} never said {ready!r}:\n{''.join(lines)}")


def stop(proc: subprocess.Popen) -> None:
    """Ctrl-C to the command's whole process group; whatever still runs after 10 s is killed."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


def test_every_readme_block_runs_as_written(tmp_path, fresh_database):
    blocks = readme_blocks()
    skipped = [b for b in blocks if any(b.startswith(k) for k in NOT_RUN_HERE)]
    assert len(skipped) == len(NOT_RUN_HERE), "a block in NOT_RUN_HERE is gone from the pages"
    runnable = [b for b in blocks if b not in skipped]
    assert "simulate_upstream" in runnable[0] and "curl" in runnable[1], runnable[:2]
    assert "make demo" in blocks[0], "the README's two commands come first"
    lines = on_free_ports([line for block in runnable for line in block.splitlines()])
    # The blocks' lines again, each block with its lines on free ports.
    by_block, at = [], 0
    for block in runnable:
        count = len(block.splitlines())
        by_block.append(lines[at:at + count])
        at += count
    terminal = Terminal(newcomer_env(fresh_database), tmp_path)
    processes, said = [], {}
    try:
        for block in by_block:
            for line in block:
                # A download (`curl … -OJ`) goes into a scratch directory, not the clone.
                cwd = tmp_path if line.startswith("curl") and " -OJ " in line else ROOT
                if "simulate_upstream" in line:
                    proc, said["simulator"] = started(line, terminal.exported, "Press Ctrl-C")
                    processes.append(proc)
                elif "runserver" in line:
                    address = re.search(r"runserver (\S+)", line).group(1)
                    proc, _ = started(line, terminal.exported, "Quit the server with",
                                      timeout=60)
                    processes.append(proc)
                    wait_for_http(f"http://{address}/healthz")
                    assert proc.poll() is None, "runserver exited (is its port taken?)"
                else:
                    result = terminal.run(line, cwd)
                    assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
                    assert "Traceback" not in result.stderr, result.stderr
                    said[line] = result.stdout
        env = {name: terminal.variable(name)
               for name in ("TALKOVER_TOKEN", "ORIGINS_TOKEN", "SBP_TOKEN")}
        # The tokens the README names are the ones the simulator printed for those environments.
        assert f"acme-sales: {env['TALKOVER_TOKEN']}" in said["simulator"]
        assert f"origins-demo: {env['ORIGINS_TOKEN']}" in said["simulator"]
        assert env["SBP_TOKEN"].startswith("sbp_")
        added = [out for line, out in said.items() if "addenv" in line]
        assert added[0].startswith("Added environment 1 'Sales' to acme (Talkover, ")
        assert added[1].startswith("Added environment 2 'Support' to acme (Origins AI, ")
        out = {line.split('"')[-2] if '"' in line else line: text for line, text in said.items()
               if line.startswith("curl")}
        listing = json.loads(next(v for k, v in out.items() if "/1/calls?" in k))
        assert listing["pagination"]["total"] > 0, "the mirror has no completed call"
        quality = json.loads(next(v for k, v in out.items() if "quality" in k))
        assert quality, quality
        csv_files = list(tmp_path.glob("switchboard-*.csv"))
        assert len(csv_files) == 1 and len(csv_files[0].read_text().splitlines()) > 1
    finally:
        for proc in reversed(processes):
            stop(proc)


def test_out_of_order_and_bad_input_get_one_line_each(fresh_database):
    env = newcomer_env(fresh_database, TALKOVER_TOKEN="talq_wrong_token_0000")
    py = ".venv/bin/python manage.py"
    # Before migrate: one line that says what to do.
    assert "migrate" in one_line_error(run(f"{py} sync --org acme", env))
    assert "migrate" in one_line_error(run(f"{py} createorg acme --name Acme", env))
    assert run(f"{py} migrate", env).returncode == 0
    assert "acme" in one_line_error(run(
        f'echo "$TALKOVER_TOKEN" | {py} addenv acme Sales --provider talkover --token-stdin',
        env))
    assert run(f"{py} createorg acme --name Acme", env).returncode == 0
    port = free_port()
    proc, said = started(f"{py} simulate_upstream --port {port} --days 1 --calls-per-day 5",
                         env, "Press Ctrl-C")
    try:
        wrong = one_line_error(run(
            f'echo "$TALKOVER_TOKEN" | {py} addenv acme Sales --provider talkover '
            f"--base-url http://127.0.0.1:{port} --token-stdin", env))
        assert "rejected" in wrong
        good = re.search(r"acme-sales: (talq_\w+)", said).group(1)
        not_api = one_line_error(run(
            f'echo "{good}" | {py} addenv acme Sales --provider talkover '
            f"--base-url http://127.0.0.1:{port}/nothing-here/api/v1 --token-stdin", env))
        assert "not a Talkover API" in not_api
    finally:
        stop(proc)
    unreachable = one_line_error(run(
        f'echo "$TALKOVER_TOKEN" | {py} addenv acme Sales --provider talkover '
        f"--base-url http://127.0.0.1:{free_port()} --token-stdin", env))
    assert "could not be reached" in unreachable
    assert "No environment" in run(f"{py} shell -c \"from portal.models import Environment; "
                                   "print('No environment' if not Environment.objects.exists() "
                                   "else 'saved')\"", env).stdout


def test_the_readme_is_a_map_whose_links_lead_somewhere():
    """The README stays a map (≤ 250 lines); every page it or docs/ links to exists, and
    every `#anchor` names a heading of that page (GitHub's way of spelling it)."""
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250
    def anchors(page: Path) -> set[str]:
        return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                for h in re.findall(r"^#+ (.*)$", page.read_text(), flags=re.M)}
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target, anchor in re.findall(r"\]\(([^)#:]+\.md)(?:#([^)]+))?\)", page.read_text()):
            linked = (page.parent / target).resolve()
            assert linked.exists(), f"{page.name}: {target}"
            assert not anchor or anchor in anchors(linked), f"{page.name}: {target}#{anchor}"
