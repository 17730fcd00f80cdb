"""The newcomer's path: the README's "Command line" block, run exactly as written.

Each line runs as a subprocess (`bash -c`) from the repository root on a fresh SQLite file,
with nothing else set up: the simulator is started by its own README line, the environment
is added with a host-only base URL, and the mirror is then read through the REST API with
the token `issuetoken` printed. Out-of-order and bad input each get one line and a non-zero
exit, never a traceback.

The README's ports (8765 for the simulator, 8000 for the server) are swapped for free ones, and
nothing else: a demo or another server left running on 8000 must not answer in our place.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason="needs the README's .venv")


def readme_first_hour() -> list[str]:
    """The lines of the first ```sh block under "## Command line", comments dropped."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Command line"):]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in block.splitlines()
            if line.strip()]


def on_free_ports(lines: list[str]) -> list[str]:
    """The lines with each port they name replaced, consistently, by a free one."""
    ports = {port: str(free_port())
             for line in lines for port in re.findall(r"(?:--port |127\.0\.0\.1:)(\d+)", line)}
    return [re.sub(r"(--port |127\.0\.0\.1:)(\d+)",
                   lambda m: m.group(1) + ports[m.group(2)], line) for line in lines]


def newcomer_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "PYTEST_CURRENT_TEST",
                        "DJANGO_SETTINGS_MODULE"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PYTHONUNBUFFERED="1",
               **extra)
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


def test_the_readme_first_hour_works_as_written(tmp_path):
    lines = on_free_ports(readme_first_hour())
    env = newcomer_env(tmp_path, ALICE_PASSWORD="pw-Alice-12345")
    processes = []
    token = ""
    try:
        for line in lines:
            if "simulate_upstream" in line:
                proc, said = started(line, env, "Press Ctrl-C")
                processes.append(proc)
                env["TALKOVER_TOKEN"] = re.search(r"acme-sales: (talq_\w+)", said).group(1)
            elif "runserver" in line:
                address = re.search(r"runserver (\S+)", line).group(1)
                proc, _ = started(line, env, "Quit the server with", timeout=60)
                processes.append(proc)
                wait_for_http(f"http://{address}/healthz")
                assert proc.poll() is None, "runserver exited (is its port taken?)"
                base = f"http://{address}"
            else:
                result = run(line, env)
                assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
                assert "Traceback" not in result.stderr, result.stderr
                if "issuetoken" in line:
                    token = re.search(r"sbp_[\w-]+", result.stdout).group(0)
        assert token, "issuetoken printed no sbp_ token"
        headers = {"Authorization": f"Bearer {token}"}
        envs = requests.get(f"{base}/api/v1/environments/", headers=headers, timeout=10)
        assert envs.status_code == 200, envs.text
        sales = next(e for e in envs.json()["results"] if e["name"] == "Sales")
        calls = requests.get(f"{base}/api/v1/environments/{sales['id']}/calls",
                             params={"per_page": 5}, headers=headers, timeout=10)
        assert calls.status_code == 200, calls.text
        assert calls.json()["pagination"]["total"] > 0, "the mirror is empty"
    finally:
        for proc in reversed(processes):
            stop(proc)


def test_out_of_order_and_bad_input_get_one_line_each(tmp_path):
    env = newcomer_env(tmp_path, TALKOVER_TOKEN="talq_wrong_token_0000")
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
