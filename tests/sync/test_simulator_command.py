"""Simulator: ``manage.py simulate_upstream`` argument errors, start, print, serve, stop."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("args,message", [
    (["--end-date", "2024-02-30"], "--end-date"),
    (["--end-date", "31/03/2024"], "--end-date"),
    (["--faults", "500=2"], "--faults"),
    (["--faults", "teapot=1"], "unknown fault"),
    (["--token", "secret"], "--token"),
    (["--days", "0"], "days"),
    (["--calls-per-day", "-1"], "calls_per_day"),
    (["--port", "70000"], "--port"),
])
def test_bad_arguments_raise_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_upstream", *args)


def test_command_starts_prints_serves_and_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_upstream", "--port", "0", "--days", "3",
         "--calls-per-day", "40", "--end-date", "2024-03-28", "--token", "talq_cli_token",
         "--faults", "500=0.5,only=/api/v1/calls"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        out = "".join(lines)
        assert "Press Ctrl-C" in out, out + proc.stderr.read()
        url = re.search(r"Talkover base URL: (http://\S+/api/v1)", out).group(1)
        assert re.search(r"Origins AI base URL:\s+http://127\.0\.0\.1:\d+\n", out)
        assert "talkover acme-sales: talq_cli_token" in out
        assert re.search(r"origins  origins-demo: orig_[0-9a-f]{40} \(agents 4012", out)
        # Every provider with a simulator is served, Vapi's from its own package.
        vapi_url = re.search(r"Vapi base URL: (http://127\.0\.0\.1:\d+)\n", out).group(1)
        vapi_key = re.search(r"vapi     acme-vapi: (vapi_[0-9a-f]{40})\n", out).group(1)
        assert "Faults: 500=0.5,only=/api/v1/calls" in out
        r = requests.get(f"{url}/agents", headers={"Authorization": "Bearer talq_cli_token"},
                         timeout=10)
        assert r.status_code == 200 and r.json()["success"] is True
        r = requests.get(f"{vapi_url}/assistant", headers={"Authorization": f"Bearer {vapi_key}"},
                         timeout=10)
        assert r.status_code == 200 and len(r.json()) == 3
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=15)
        assert proc.returncode == 130, err
        assert err.strip() == "Stopped by Ctrl-C: served 2 requests.", err
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/agents", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
