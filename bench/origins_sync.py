"""Origins AI sync at scale: records/s and peak RSS of `manage.py sync`, first and second run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_h18_bench \
        python bench/origins_sync.py [--sizes 10000,100000,200000] [--days 90]

For each size a simulator process serves one Origins environment with one agent whose
`call_stats` array holds about that many records (about 2 KB of JSON each). The body is
fetched once first (the simulator generates and caches it), then `manage.py sync --env ID`
runs twice as a subprocess: the first run creates every call, the second finds them all
unchanged. Each run's peak RSS is that subprocess's own (getrusage of a child that waited
for it alone); records/s is the records read over the calls stream's own duration (its
SyncRun), so process start-up is not counted. Memory must stay flat across sizes: the body is
parsed as it arrives, never held. Prints one table. The database is flushed first: only use
a database made for this (its name must contain "bench").
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import benchkit  # bench/benchkit.py: what the benchmark scripts share

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "orig_" + "b" * 40
AGENT = 7001


def setup_django() -> None:
    benchkit.setup_django()


def phase_serve(port: int, size: int, days: int, end: str) -> None:
    """Serve one Origins environment of about `size` records until terminated."""
    sys.path.insert(0, str(ROOT))
    from sync.simulator import EnvironmentSpec, Simulator, SimulatorConfig

    # Weekends are quieter in the simulator: scale so the whole set is close to `size`.
    per_day = max(1, round(size / days / 0.87))
    config = SimulatorConfig(
        days=days, end_date=datetime.fromisoformat(end).date(), bad_record_rate=0.0,
        environments={"bench": EnvironmentSpec("origins", agent_ids=(AGENT,),
                                               calls_per_day=per_day)},
        tokens={"bench": TOKEN})
    server = Simulator(config).serve("127.0.0.1", port)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


def phase_setup(base_url: str, size: int) -> dict:
    setup_django()
    from portal.models import Environment, Organization, Provider

    org, _ = Organization.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "timezone": "America/Sao_Paulo"})
    env = Environment(organization=org, name=f"origins-{size}", provider=Provider.ORIGINS,
                      base_url=base_url, requests_per_minute=1_000_000,
                      provider_settings={"agent_ids": [AGENT]})
    env.set_token(TOKEN)
    env.save()
    return {"env": env.pk}


def phase_sync(env_id: int) -> dict:
    """Run `manage.py sync --env ID` and report its own peak RSS and the calls run."""
    out = subprocess.run([sys.executable, "manage.py", "sync", "--env", str(env_id),
                          "--no-progress"], cwd=ROOT, capture_output=True, text=True)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if out.returncode:
        raise SystemExit(f"manage.py sync failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}")
    setup_django()
    from sync.models import SyncRun

    run = SyncRun.objects.filter(environment_id=env_id, stream="calls").latest("started_at")
    return {"records": run.created + run.updated + run.unchanged + run.rejected,
            "created": run.created, "updated": run.updated, "unchanged": run.unchanged,
            "seconds": run.duration_seconds, "rss_mb": rss}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"phase {args[:2]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_for(port: int, size: int) -> None:
    benchkit.wait_for_health(port)
    # Warm-up: the simulator generates and caches the body; read it, keep nothing.
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/agents/{AGENT}/call_stats",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=600) as resp:
        while resp.read(1 << 20):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,200000")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--phase", choices=["serve", "setup", "sync"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--env", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "serve":
        phase_serve(args.port, args.size, args.days, args.end)
        return
    if args.phase == "setup":
        print(json.dumps(phase_setup(args.base_url, args.size)))
        return
    if args.phase == "sync":
        print(json.dumps(phase_sync(args.env)))
        return

    db = os.environ.get("DATABASE_URL", "")
    if "bench" not in db:
        raise SystemExit("Set DATABASE_URL to a database made for this benchmark (its name "
                         "must contain 'bench'): it is flushed.")

    benchkit.production_settings()
    benchkit.fresh_database()
    end = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        port = free_port()
        sim = subprocess.Popen([sys.executable, __file__, "--phase", "serve", "--port",
                                str(port), "--size", str(size), "--days", str(args.days),
                                "--end", end], cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            wait_for(port, size)
            env = child("--phase", "setup", "--base-url", f"http://127.0.0.1:{port}",
                        "--size", str(size))["env"]
            for label in ("first", "second"):
                result = child("--phase", "sync", "--env", str(env))
                rows.append((size, label, result))
        finally:
            sim.terminate()
            sim.wait(30)
    print(f"{'size':>8} {'sync':<7}{'records':>9}{'created':>9}{'unchanged':>10}"
          f"{'seconds':>9}{'records/s':>11}{'peak RSS MB':>13}")
    for size, label, r in rows:
        rate = r["records"] / r["seconds"] if r["seconds"] else 0
        print(f"{size:>8} {label:<7}{r['records']:>9}{r['created']:>9}{r['unchanged']:>10}"
              f"{r['seconds']:>9.1f}{rate:>11.0f}{r['rss_mb']:>13.0f}")
    print(f"(days {args.days}, one agent, database {db.rsplit('/', 1)[-1]}; peak RSS is the "
          f"`manage.py sync` process's own)")


if __name__ == "__main__":
    main()
