"""`make test` on a machine without chromium: the browser tests are left out and the session
says so in one line, and the rest runs (nothing installs system packages)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_without_chromium_one_line_says_the_browser_tests_are_skipped():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST_") and k != "DJANGO_SETTINGS_MODULE"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0",
         "tests/e2e/test_browser_live.py", "tests/lint/test_import_cycles.py"],
        cwd=ROOT, env={**env, "CHROMIUM": "/nonexistent/chromium"}, capture_output=True,
        text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    said = [line for line in run.stdout.splitlines() if "chromium" in line.lower()]
    assert said == ["Browser tests skipped: /nonexistent/chromium is not installed "
                    "(Debian: apt-get install chromium)."], run.stdout
    assert "1 passed" in run.stdout and "deselected" in run.stdout, run.stdout
