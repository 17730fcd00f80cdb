"""Origins AI sync at scale: records/s and peak RSS of a sync, first and second run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_h18_bench \
        python bench/origins_sync.py [--sizes 50000,100000] [--days 90] \
            [--numbers distinct,shared] [--resolution on,off] [--talkover-ms 0.194]

For each size, kind of numbers and resolution setting a simulator process serves one Origins
environment with one agent (dialling out) whose `call_stats` array holds about that many
records (about 2 KB of JSON each); `shared`: every call reaches one number (as a withheld
caller id, a test line or a trunk do), `distinct`: each call its own customer. The body is
fetched once first (the simulator generates and caches it), then the environment is synced
twice (`manage.py sync --env ID`'s command, in a child process with
`settings.SYNC_RESOLUTION` as asked): the first run creates every call, the second finds them
all unchanged — its requests are a quiet sync's (Origins has no filter, page or conditional
request: one request per agent, its whole history). Each run's peak RSS is that child's
own; records/s is the records read over the calls stream's own duration (its SyncRun), so
process start-up is not counted. Memory must stay flat across sizes: the body is parsed as it
arrives, never held. The database is flushed before each case (a case's calls would be the
next one's earlier contacts): only use a database made for this (its name must contain
"bench"), and a Redis database no other sync uses (environment ids restart at each flush).

Prints one table: beside each first run, its time per record against Talkover's time per
call (`--talkover-ms`, milliseconds; by default 13.6 s for 70,056 calls, the back-fill
`bench/sync_throughput.py` measures: run it on the same machine and pass its figure).
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


SHARED_NUMBER = "+551130000000"


def phase_serve(port: int, size: int, days: int, end: str, shared: bool) -> None:
    """Serve one Origins environment of about `size` records until terminated (`shared`:
    every call reaches one number)."""
    sys.path.insert(0, str(ROOT))
    from sync.providers.origins import simulator as origins_simulator
    from sync.simulator import EnvironmentSpec, Simulator, SimulatorConfig

    if shared:
        origins_simulator.number_from = lambda bits, br_share: SHARED_NUMBER

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


def phase_sync(env_id: int, resolution: bool) -> dict:
    """Sync the environment as `manage.py sync --env ID` does (resolution on or off) and
    report this process's peak RSS and the calls run."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from sync.models import SyncRun

    settings.SYNC_RESOLUTION = resolution
    before = SyncRun.objects.filter(environment_id=env_id).order_by("-pk").values_list(
        "pk", flat=True).first() or 0
    call_command("sync", "--env", str(env_id), "--no-progress", stdout=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    runs = SyncRun.objects.filter(environment_id=env_id, pk__gt=before)
    run = runs.get(stream="calls")
    # Every request of this sync (its streams'): the second sync's is a quiet sync's cost.
    return {"requests": sum(runs.values_list("requests", flat=True)),
            "records": run.created + run.updated + run.unchanged + run.rejected,
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
    parser.add_argument("--sizes", default="50000,100000")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--numbers", default="distinct,shared")
    parser.add_argument("--resolution", default="on,off")
    parser.add_argument("--talkover-ms", type=float, default=13.6 / 70_056 * 1000)
    parser.add_argument("--phase", choices=["serve", "setup", "sync"], help=argparse.SUPPRESS)
    parser.add_argument("--shared", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--env", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "serve":
        phase_serve(args.port, args.size, args.days, args.end, args.shared)
        return
    if args.phase == "setup":
        print(json.dumps(phase_setup(args.base_url, args.size)))
        return
    if args.phase == "sync":
        print(json.dumps(phase_sync(args.env, args.resolution == "on")))
        return

    db = os.environ.get("DATABASE_URL", "")
    if "bench" not in db:
        raise SystemExit("Set DATABASE_URL to a database made for this benchmark (its name "
                         "must contain 'bench'): it is flushed.")

    benchkit.production_settings()
    end = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for numbers in args.numbers.split(","):
            for resolution in args.resolution.split(","):
                benchkit.fresh_database()
                case = (size, numbers, resolution)
                rows += [(case, label, r) for label, r in run_case(args, end, *case)]
    print(f"{'size':>7} {'numbers':<9}{'resol.':<7}{'sync':<7}{'records':>8}{'created':>8}"
          f"{'unchanged':>10}{'requests':>9}{'seconds':>8}{'records/s':>10}{'ms/record':>10}"
          f"{'x Talkover':>11}{'RSS MB':>7}")
    for (size, numbers, resolution), label, r in rows:
        rate = r["records"] / r["seconds"] if r["seconds"] else 0
        per = 1000 * r["seconds"] / r["records"] if r["records"] else 0
        versus = f"{per / args.talkover_ms:>11.2f}" if label == "first" else f"{'':>11}"
        print(f"{size:>7} {numbers:<9}{resolution:<7}{label:<7}{r['records']:>8}"
              f"{r['created']:>8}{r['unchanged']:>10}{r['requests']:>9}{r['seconds']:>8.1f}"
              f"{rate:>10.0f}"
              f"{per:>10.3f}{versus}{r['rss_mb']:>7.0f}")
    print(f"(days {args.days}, one agent, database {db.rsplit('/', 1)[-1]}; Talkover "
          f"{args.talkover_ms:.3f} ms a call; RSS is the syncing process's peak)")


def run_case(args: argparse.Namespace, end: str, size: int, numbers: str, resolution: str
             ) -> list[tuple[str, dict]]:
    """One size, kind of numbers and resolution setting: its simulator, first and second
    sync."""
    port = free_port()
    sim = subprocess.Popen([sys.executable, __file__, "--phase", "serve", "--port", str(port),
                            "--size", str(size), "--days", str(args.days), "--end", end,
                            *(["--shared"] if numbers == "shared" else [])],
                           cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_for(port, size)
        env = child("--phase", "setup", "--base-url", f"http://127.0.0.1:{port}",
                    "--size", str(size))["env"]
        return [(label, child("--phase", "sync", "--env", str(env),
                              "--resolution", resolution))
                for label in ("first", "second")]
    finally:
        sim.terminate()
        sim.wait(30)

if __name__ == "__main__":
    main()
