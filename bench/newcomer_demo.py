"""A newcomer's `make demo`: from a fresh clone to the login page, on the embedded PostgreSQL.

    .venv/bin/python bench/newcomer_demo.py [--rounds 1] [--port 18300]

Each round clones this repository's HEAD into a temporary directory (as `git clone` would: no
`.venv`, no `var/`), runs `make demo PORT=…` there with DATABASE_URL and REDIS_URL unset (pip's
cache is whatever this machine has: warm after one `make install`), and times each phase from
the demo's own output: the virtualenv and install, `migrate` (the embedded server's initdb and
start included), the "Serving at" line, the login page answering 200, the back-fill's end
("History loaded": it runs while the portal serves) and the "Ready" line, the demo's last.
Then Ctrl-C, `make stop`,
and the clone is removed. The load average is printed with the figures: the machine is shared.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# Phase → the first output line that ends it.
MARKS = (("install", "manage.py demo"), ("migrate", "Database ready"),
         ("serving", "Serving at http"), ("history", "History loaded"), ("ready", "Ready: open"))


def one_round(port: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="sb-newcomer-"))
    clone = work / "switchboard"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SWITCHBOARD_VAR_DIR",
        "VIRTUAL_ENV"}}
    started = time.monotonic()
    seen: dict[str, float] = {}
    proc = subprocess.Popen(["make", "demo", f"PORT={port}"], cwd=clone, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def read() -> None:
        for line in proc.stdout:
            for phase, mark in MARKS:
                if mark in line and phase not in seen:
                    seen[phase] = time.monotonic() - started

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"make demo stopped ({proc.returncode}) after {seen}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/accounts/login/",
                                timeout=5).status_code == 200:
                    seen["login page"] = time.monotonic() - started
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.25)
        # The back-fill goes on while the portal serves: wait for the demo's last line too.
        deadline = time.monotonic() + 600
        while "ready" not in seen and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.25)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(["make", "stop"], cwd=clone, env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return seen


def main() -> int:
    # Started in the background, this process (and so `make demo`) would ignore Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--port", type=int, default=18300)
    args = parser.parse_args()
    phases = [p for p, _ in MARKS] + ["login page"]
    print(f"{'round':>5} " + " ".join(f"{p:>11}" for p in phases) + "   load (1/5 min)")
    for n in range(1, args.rounds + 1):
        seen = one_round(args.port)
        load = os.getloadavg()
        print(f"{n:>5} " + " ".join(f"{seen.get(p, float('nan')):>10.1f}s" for p in phases)
              + f"   {load[0]:.2f} / {load[1]:.2f}")
        sys.stdout.flush()
    print("seconds since `make demo` started, when each phase ended")
    return 0


if __name__ == "__main__":
    sys.exit(main())
