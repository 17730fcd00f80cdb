"""Throughput and latency under load: gunicorn as in production, driven by wrk, 1M calls.

Usage (PostgreSQL and Redis; the 1M-call mirror is `bench/report_latency.py`'s, built on the
first run — about 2 minutes — and reused afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_h21_bench \\
    REDIS_URL=redis://127.0.0.1:6379/6 python bench/api_load.py [--duration 30] [--connections 16]

Needs the load generator `wrk` (Debian package `wrk`: `apt-get install -y wrk`); the script
stops with that hint when it is missing.

It starts `gunicorn portal.wsgi --config python:portal.gunicorn_conf` (the Procfile's web
process: 2 workers × 4 threads unless WEB_CONCURRENCY / WEB_THREADS say otherwise) with the
production settings (DEBUG=false, PostgreSQL, Redis cache), requests carrying
`X-Forwarded-Proto: https` as behind the TLS proxy, and runs wrk for `--duration` seconds per
endpoint:

- the Talkover-compatible listing, filtered (`status=completed&per_page=100`), and a deep
  page (`per_page=100&page=1000`), with an API token;
- the calls report summary, cold (every request a different date range, so none is cached;
  each run has a cache key prefix of its own)
  and cached (one range, warmed first), with an API token;
- the portal pages with a logged-in session, over windows that hold data (the mirror's last
  30 and 90 days, ending on its last day — a preset relative to today would measure an empty
  page): the dashboard, the agents page and the calls explorer (first page and a search by a
  SID cut as its table shows it). A page case stops the run if its first answer holds no
  call figure.

The per-user API throttle (API_THROTTLE_RATE, 1,200 a minute by default) is raised for the run:
the bench measures what the server can do, not the throttle. wrk runs on the same machine (it
takes cores from the server, but is not counted). Prints one table: requests/s, p50, p95 (wrk's own
percentile, from the script's `done`), p99, non-2xx answers, CPU per request — the gunicorn
workers' (app) and PostgreSQL's server processes serving this database (db), both from
/proc/<pid>/stat before and after each case, and their sum (the targets' "app + database CPU per
request"; wrk's is left out) — the workers' CPU seconds each, and the spread (the busiest
worker's over the idlest's, less 1; the target is ≤ 25 %: connections spread over the workers,
`reuse_port` in portal/gunicorn_conf.py).
Targets on a 2-core machine: listing ≥ 150 requests/s with p99 < 250 ms; cached report
≥ 300 requests/s with p99 < 150 ms; the 30-day dashboard ≥ 5 × its rate before its drill
links were built in bulk (40 req/s) and ≥ 0.5 × the cached report's rate in the same run
(the last line says whether).
Report pages and the explorer without a search are kept rendered (`reports.pages.page_cache`):
after the warm-up their rate is the kept page's; the cut-SID search runs every time.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import benchkit  # bench/benchkit.py: what the benchmark scripts share
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(tempfile.mkdtemp(prefix="sb-api-load-"))
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "EMAIL_URL": f"file://{VAR / 'mail'}",
    "API_THROTTLE_RATE": "100000000/minute",
    "LOG_LEVEL": "WARNING",
    "SWITCHBOARD_VAR_DIR": str(VAR),
    # Every run starts with an empty cache of its own: "cold" stays cold on a second run
    # against the same Redis (the 3,660 ranges would otherwise all be kept from the first).
    "CACHE_KEY_PREFIX": f"sb-load-{secrets.token_hex(4)}",
}


# The 30-day dashboard's rate before its drill links were built in bulk (22–40 req/s on this
# machine); the target is 5 × its upper end.
DASHBOARD_BEFORE_RPS = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django() -> None:
    """This process uses the server's settings, so its session and token are the server's."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
            "REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL, as production does.")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    os.environ.update(PRODUCTION)
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))


def credentials(env) -> tuple[str, str]:
    """(API token, Cookie header) of a viewer of the bench organisation. The cookie holds the
    session and a CSRF secret, as a browser's does after its first page: without one every
    page made and set a new secret (its 32 random characters, a Set-Cookie header)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.test import Client
    from django.utils.crypto import get_random_string

    from portal.models import ApiToken, Membership, Role

    user, _ = get_user_model().objects.get_or_create(username="bench-load")
    Membership.objects.get_or_create(user=user, organization=env.organization,
                                     defaults={"role": Role.VIEWER})
    _, token = ApiToken.issue(user, name=f"api-load {time.time():.0f}")
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    secret = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    return token, (f"{settings.SESSION_COOKIE_NAME}={session}; "
                   f"{settings.CSRF_COOKIE_NAME}={secret}")


def report_paths(env_id: int, last_day: date, count: int) -> list[str]:
    """`count` distinct ranges (30–90 days ending on different days): none cached."""
    out = []
    for i in range(count):
        end = last_day - timedelta(days=i % 60)
        start = end - timedelta(days=29 + (i // 60) % 61)
        out.append(f"/api/v1/reports/calls/?environment={env_id}&start_date={start}"
                   f"&end_date={end}&interval=day")
    return out


LUA = """
local paths = {%(paths)s}
local headers = {%(headers)s}
local counter = 0
setup = function(thread)
  thread:set("i", counter)
  counter = counter + %(stride)d
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  io.write(string.format("p95-us %%d\\n", latency:percentile(95)))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(base: str, paths: list[str], headers: dict[str, str], args,
            duration: int | None = None) -> dict:
    script = VAR / f"case-{time.monotonic_ns()}.lua"
    script.write_text(LUA % {
        "paths": ", ".join(lua_string(p) for p in paths),
        "headers": ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()),
        "stride": max(1, len(paths) // max(1, args.threads)),
    })
    out = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration or args.duration}s",
         "--latency", "--timeout", "10s", "-s", str(script), base],
        capture_output=True, text=True, check=True).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency(out, "50%"),
        "p95": int(re.search(r"p95-us (\d+)", out).group(1)) / 1000,  # the script's done()
        "p99": latency(out, "99%"),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out))
        else 0,
    }


def worker_pids(arbiter: int) -> list[int]:
    """gunicorn's workers: the arbiter's children."""
    pids = []
    for task in Path(f"/proc/{arbiter}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return sorted(pids)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = benchkit.proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / benchkit.CLOCK_TICKS


def backend_pids() -> list[int]:
    """PostgreSQL's server processes for this database other than this script's own: the
    gunicorn threads' connections (kept open between requests, CONN_MAX_AGE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return [pid for (pid,) in cursor.fetchall()]


def cpu_of(pids) -> dict[int, float]:
    """CPU seconds so far of each process still there."""
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def measured(arbiter: int, run) -> dict:
    """`run()`'s wrk figures plus each worker's CPU seconds over it, their spread (the
    busiest worker's CPU over the idlest's, less 1), the workers' CPU ms per request and the
    database's (its server processes serving this database: one opened during the run counts
    from 0; one closed during it is lost, rare with connections kept 60 s)."""
    pids = worker_pids(arbiter)
    before = [cpu_seconds(pid) for pid in pids]
    db_before = cpu_of(backend_pids())
    result = run()
    cpu = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
    db_after = cpu_of(backend_pids())
    result["cpu"] = cpu
    result["spread"] = max(cpu) / min(cpu) - 1 if min(cpu) > 0 else float("inf")
    result["cpu_ms"] = 1000 * sum(cpu) / max(1, result["requests"])
    db = sum(after - db_before.get(pid, 0.0) for pid, after in db_after.items())
    result["db_ms"] = 1000 * db / max(1, result["requests"])
    return result


def latency(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def start_gunicorn(port: int) -> subprocess.Popen:
    """`make serve`'s web process: collectstatic (the pages' manifest), then gunicorn."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                   check=True)
    log = open(VAR / "gunicorn.log", "ab")  # noqa: SIM115  (lives as long as the server)
    env = {**os.environ, "BIND": f"127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi", "--config",
         "python:portal.gunicorn_conf"], cwd=ROOT, env=env, stdout=log, stderr=log,
        start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.terminate()
    sys.exit(f"gunicorn did not start; see {VAR / 'gunicorn.log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--only", default="", help="run only the cases whose label holds this")
    args = parser.parse_args()
    setup_django()
    import report_latency  # noqa: PLC0415  (sets Django up with the settings above)

    from sync.models import Call

    env = report_latency.environment_for(1_000_000, fresh=False)
    token, cookie = credentials(env)
    calls = Call.objects.filter(environment=env).count()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
    page = {"Cookie": cookie, "X-Forwarded-Proto": "https"}
    listing = f"/api/v1/environments/{env.pk}/calls"
    last = report_latency.LAST_DAY
    warm = (f"/api/v1/reports/calls/?environment={env.pk}&start_date={last - timedelta(89)}"
            f"&end_date={last}&interval=day")
    cases = [
        ("listing status=completed, page 1", [f"{listing}?status=completed&per_page=100"], api),
        ("listing deep page (1000 × 100)", [f"{listing}?per_page=100&page=1000"], api),
        ("reports summary, cold", report_paths(env.pk, last, 3660), api),
        ("reports summary, cached", [warm], api),
    ]
    slug = env.organization.slug
    sid = Call.objects.filter(environment=env).values_list("sid", flat=True)[4321]

    def window(days: int, start: str = "start", end: str = "end") -> str:
        return f"{start}={last - timedelta(days - 1)}&{end}={last}"

    page_cases = [
        ("dashboard page (30 days)", f"/o/{slug}/?range=custom&{window(30)}"),
        ("dashboard page (90 days)", f"/o/{slug}/?range=custom&{window(90)}"),
        ("agents page (30 days)", f"/o/{slug}/agents/?range=custom&{window(30)}"),
        ("calls explorer (30 days)", f"/o/{slug}/calls/?{window(30, 'date_from', 'date_to')}"),
        ("calls explorer, cut SID search",
         f"/o/{slug}/calls/?{window(90, 'date_from', 'date_to')}&search={sid[:13]}"),
    ]
    cases += [(label, [path], page) for label, path in page_cases]
    cases = [case for case in cases if args.only in case[0]]
    load_before = os.getloadavg()
    server = start_gunicorn(port)
    results = []
    try:
        for label, paths, headers in cases:
            first = requests.get(base + paths[-1], headers=headers, timeout=60)
            if first.status_code != 200:
                sys.exit(f"{label}: {paths[-1]} answered {first.status_code}: "
                         f"{first.text[:300]}")
            if headers is page and not re.search(r'data-calls="[1-9]|/calls/\d+/', first.text):
                sys.exit(f"{label}: {paths[-1]} shows no call: the window holds no data")
            if len(paths) == 1:  # warm the workers, connections and caches first (unmeasured)
                run_wrk(base, paths, headers, args, duration=3)
            results.append((label, len(paths), measured(
                server.pid, lambda p=paths, h=headers: run_wrk(base, p, h, args))))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    load_after = os.getloadavg()
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    threads = os.environ.get("WEB_THREADS", "4")
    print(f"{calls:,} calls in one environment; gunicorn {workers} workers × {threads} threads;"
          f" wrk {args.threads} threads, {args.connections} connections, {args.duration} s each")
    print(f"{'endpoint':36} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'requests':>9} {'non-2xx':>8} {'paths':>6} {'app ms/req':>10} {'db ms/req':>9} "
          f"{'CPU ms/req':>10} {'CPU s per worker':>18} {'spread':>7}")
    for label, n_paths, r in results:
        per_worker = " ".join(f"{c:.1f}" for c in r["cpu"])
        print(f"{label:36} {r['rps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
              f"{r['requests']:9,} {r['non2xx']:8,} {n_paths:6,} {r['cpu_ms']:10.2f} "
              f"{r['db_ms']:9.2f} {r['cpu_ms'] + r['db_ms']:10.2f} {per_worker:>18} "
              f"{r['spread']:6.0%}")
    worst = max(r["spread"] for _l, _n, r in results)
    print(f"every worker serves (busiest worker's CPU ≤ 1.25 × the idlest's in every case): "
          f"worst {worst:.0%} more — {'met' if worst <= 0.25 else 'MISSED'} (gunicorn workers' "
          "CPU only: PostgreSQL's and wrk's are not in CPU ms/req)")
    print(f"machine: {os.cpu_count()} CPUs (wrk, gunicorn and PostgreSQL share them); load "
          f"average {load_before[0]:.1f} before, {load_after[0]:.1f} after (1 min)")
    rates = {label: r["rps"] for label, _n, r in results}
    if "dashboard page (30 days)" not in rates or "reports summary, cached" not in rates:
        return
    dashboard, cached = rates["dashboard page (30 days)"], rates["reports summary, cached"]
    print(f"targets, 30-day dashboard: ≥ {5 * DASHBOARD_BEFORE_RPS:.0f} req/s (5 × "
          f"the {DASHBOARD_BEFORE_RPS:.0f} req/s measured before): {dashboard:.0f} — "
          f"{'met' if dashboard >= 5 * DASHBOARD_BEFORE_RPS else 'MISSED'}; ≥ 0.5 × the cached "
          f"report's rate: {dashboard / cached:.2f} × — "
          f"{'met' if dashboard >= 0.5 * cached else 'MISSED'}")


if __name__ == "__main__":
    main()
