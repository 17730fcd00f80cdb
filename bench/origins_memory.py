"""Peak memory of an Origins sync whose one answer is huge and wide, first and second run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_h24a_bench \
        python bench/origins_memory.py [--records 100000] [--width 1800] \
            [--shape transcript|keys|string] [--gzip] [--debug]

A tiny HTTP server (a thread of this script) streams one agent's call_stats: `--records`
valid records of about `--width` bytes of JSON each (a long transcript makes them wide), so
100,000 records are about 170 MB (>= 160 MiB). Nothing of the body is held by the server:
each record is made as it is sent. `manage.py sync --env ID --stream calls` runs twice as a
subprocess: the first run creates every call, the second finds them unchanged. Peak RSS is
that subprocess's own (VmHWM via getrusage RUSAGE_CHILDREN of a child waited for alone: each
run is a fresh `child` process that starts the sync and reports). The target is < 250 MiB.
The database is flushed first: its name must contain "bench". Prints one table.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import benchkit  # bench/benchkit.py: what the benchmark scripts share

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "orig_" + "m" * 40
AGENT = 7001
WORDS = ("hello", "thanks", "order", "delivery", "tomorrow", "address", "payment", "card",
         "please", "confirm", "number", "schedule", "callback", "agent", "minute")


def wide_record(n: int, width: int, start: datetime, shape: str = "transcript") -> bytes:
    """Record `n` as JSON bytes of about `width` bytes, made wide by `shape`: a transcript
    (a list of small objects), many keys, or one long string."""
    at = start + timedelta(seconds=n * 61)
    iso = at.isoformat().replace("+00:00", "Z")
    rec = {"call_id": f"{n:08x}-0000-4000-8000-{n:012x}", "call_agent_id": AGENT,
           "call_status": "ANSWERED", "call_direction": "inbound",
           "from_number": f"+55119{n % 10**8:08d}", "to_number": "+551140040000",
           "initiation_time": iso, "answer_time": iso,
           "end_time": (at + timedelta(seconds=45)).isoformat().replace("+00:00", "Z"),
           "call_duration": 45, "billed_duration": 60, "hangup_cause_name": "NORMAL_CLEARING",
           "hangup_source": "caller", "transcript": []}
    size = len(json.dumps(rec))
    if shape == "keys":
        for i in range(max(0, (width - size) // 24)):
            rec[f"extra_field_{i:03d}"] = f"v{(n * 7 + i) % 100000:08d}"
        return json.dumps(rec, separators=(",", ":")).encode()
    if shape == "string":
        rec["notes"] = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(width // 7))[
            :max(0, width - size)]
        return json.dumps(rec, separators=(",", ":")).encode()
    turn = 0
    while size < width:
        text = " ".join(WORDS[(n + turn + i) % len(WORDS)] for i in range(12))
        rec["transcript"].append({"role": "agent" if turn % 2 else "customer", "text": text})
        size += len(text) + 32
        turn += 1
    return json.dumps(rec, separators=(",", ":")).encode()


def serve(records: int, width: int, shape: str, gzipped: bool) -> ThreadingHTTPServer:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=records * 61 + 86400)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection closes

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 — http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if gzipped else None
            if packer:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()

            def send(data: bytes, last: bool = False) -> None:
                if packer:
                    data = packer.compress(data) + (packer.flush() if last else b"")
                self.wfile.write(data)

            batch = [b"["]
            for n in range(records):
                batch.append((b"," if n else b"") + wide_record(n, width, start, shape))
                if len(batch) >= 200:
                    send(b"".join(batch))
                    batch = []
            send(b"".join(batch) + b"]", last=True)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_sync(env_id: int) -> tuple[float, float]:
    """(peak RSS MiB, seconds) of one `manage.py sync` subprocess."""
    began = time.monotonic()
    out = subprocess.run([sys.executable, "manage.py", "sync", "--env", str(env_id),
                          "--stream", "calls", "--no-progress"], cwd=ROOT, capture_output=True,
                         text=True)
    if out.returncode:
        raise SystemExit(f"sync failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}")
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, \
        time.monotonic() - began


def child_sync(env_id: int) -> dict:
    """One sync measured in a fresh process (RUSAGE_CHILDREN is the max over all children)."""
    out = subprocess.run([sys.executable, __file__, "--measure", str(env_id)], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--width", type=int, default=1800)
    parser.add_argument("--shape", choices=["transcript", "keys", "string"],
                        default="transcript", help="what makes each record wide")
    parser.add_argument("--gzip", action="store_true", help="serve the body gzip-encoded")
    parser.add_argument("--debug", action="store_true",
                        help="DEBUG=true (a fresh clone's default: Django logs every query)")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        rss, seconds = run_sync(args.measure)
        print(json.dumps({"rss": rss, "seconds": seconds}))
        return
    db = os.environ.get("DATABASE_URL", "")
    if "bench" not in db:
        raise SystemExit("Set DATABASE_URL to a database made for this benchmark (its name "
                         "must contain 'bench'): it is flushed.")

    benchkit.production_settings(upstream_hosts="127.0.0.1", debug=args.debug)
    benchkit.fresh_database()
    server = serve(args.records, args.width, args.shape, args.gzip)
    body = sum(len(wide_record(n, args.width, datetime.now(UTC), args.shape)) + 1
               for n in range(0, args.records, 100)) * 100
    benchkit.setup_django()
    from django.core.cache import cache

    from portal.models import Environment, Organization, Provider

    cache.clear()  # `flush` leaves the database cache table: a stale environment lock
    from sync.models import SyncRun

    org, _ = Organization.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "timezone": "America/Sao_Paulo"})
    env = Environment(organization=org, name=f"wide-{args.shape}-{time.time():.0f}",
                      provider=Provider.ORIGINS, base_url=f"http://127.0.0.1:{server.server_port}",
                      requests_per_minute=1_000_000, provider_settings={"agent_ids": [AGENT]})
    env.set_token(TOKEN)
    env.save()
    rows = []
    for label in ("first", "second"):
        measured = child_sync(env.pk)
        run = SyncRun.objects.filter(environment=env, stream="calls").latest("started_at")
        rows.append((label, run, measured))
    server.shutdown()
    print(f"{'run':<7}{'status':>10}{'created':>9}{'unchanged':>10}{'seconds':>9}"
          f"{'peak RSS MiB':>14}")
    for label, run, m in rows:
        print(f"{label:<7}{run.status:>10}{run.created:>9}{run.unchanged:>10}"
              f"{m['seconds']:>9.1f}{m['rss']:>14.0f}")
    print(f"(DEBUG={os.environ['DEBUG']}, records wide by {args.shape}, "
          f"{'gzip' if args.gzip else 'plain'}; one answer of "
          f"{args.records:,} records, about "
          f"{body / 2**20:.0f} MiB of JSON; peak RSS is the `manage.py sync` process's own; "
          f"target < 250 MiB)")


if __name__ == "__main__":
    main()
