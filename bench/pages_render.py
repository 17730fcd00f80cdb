"""Server-side time of the portal's heaviest pages and of every search form over 1M calls.

Usage (PostgreSQL and Redis, as production; the mirror is `bench/report_latency.py`'s 1M calls
over 180 local days ending 2026-06-30, built with COPY on the first run — about 3 minutes —
and reused afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench_pages \\
    REDIS_URL=redis://127.0.0.1:6379/6 python bench/pages_render.py [--calls 1000000] [--runs 20]

Times the whole Django request (middleware, view, queries, template) through the test
client, so it is what the server spends, without network or browser; `cpu` is the median CPU
time of this process per request (PostgreSQL's not included: on a loaded machine the wall
time mostly says how loaded it is). Windows end on the mirror's last day (a preset relative
to today would show an empty page). Prints one table. Report pages in three columns:

- `report cold`: the report cache emptied before each request (summaries computed);
- `page rendered`: summaries cached, the page rendered (how pages were served before they
  were kept: "cached 43 ms" then);
- `page kept`: frame and body kept (`reports.pages.page_cache`), what a member's second request
  costs.

Search forms (no cache in play): the explorer (`search`), the Talkover-compatible listing and
its per-agent listing (`/api/v1/environments/{id}/calls?search=`, `…/agents/{id}/calls`), with
the needles a user types: a whole SID, the SID cut as the explorer's table shows it, its
suffix, an inner part, a phone number as written and a part of one, and a needle that is
neither. Targets: dashboard kept p95 ≤ 15 ms (30 days) and ≤ 25 ms (90 days),
every search p95 < 50 ms.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The table alone on the terminal: one log line per request would bury it.
os.environ.setdefault("LOG_LEVEL", "WARNING")

import report_latency  # noqa: E402  (sets Django up; the shared COPY loader of the benchmarks)
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from portal.models import ApiToken, Membership, Role  # noqa: E402
from sync.models import Call  # noqa: E402

LAST = report_latency.LAST_DAY
FIRST = LAST - timedelta(days=report_latency.DAYS - 1)
# The targets (ms, p95): kept report pages and every search form.
TARGETS = {"dashboard, 30 days": 15, "dashboard, 90 days": 25}
SEARCH_TARGET = 50


def window(days: int) -> str:
    return f"range=custom&start={LAST - timedelta(days=days - 1)}&end={LAST}"


def timed(client: Client, url: str, runs: int, prepare=None,
          headers: dict | None = None) -> tuple[float, float, float]:
    """Median and p95 wall ms of `runs` requests and their median CPU ms (this process);
    `prepare()` runs before each request, outside the timing."""
    samples, cpu = [], []
    for _ in range(runs):
        if prepare is not None:
            prepare()
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return (statistics.median(samples), samples[max(0, math.ceil(0.95 * len(samples)) - 1)],
            statistics.median(cpu))


def forget_pages() -> None:
    """Drop the kept pages (frames and bodies), keep the report summaries."""
    redis = cache._cache.get_client(write=True)
    keys = [k for k in redis.scan_iter(match="*page*", count=1000)]
    if keys:
        redis.delete(*keys)


def members(env) -> tuple[Client, str]:
    """A logged-in owner's client and an API token of the same member."""
    user, _ = get_user_model().objects.get_or_create(username="bench-pages")
    Membership.objects.get_or_create(user=user, organization=env.organization,
                                     defaults={"role": Role.OWNER})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    _, token = ApiToken.issue(user, name=f"pages-render {time.time():.0f}")
    return client, token


def searched(env) -> Call:
    return Call.objects.filter(environment=env).order_by("pk")[12345]


def needles(call: Call) -> list[tuple[str, str]]:
    sid, number = call.sid, call.to_number
    written = f"+{number[1]} ({number[2:5]}) {number[5:8]}-{number[8:]}"
    return [("whole SID", sid), ("cut SID (as the table)", f"{sid[:13]}…"),
            ("SID suffix", sid[-8:]), ("SID inner part", sid[9:19]),
            ("number as written", written), ("part of a number", number[-7:]),
            ("neither (zzzz999)", "zzzz999")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="only the rows whose label has this")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not hasattr(cache, "_cache"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL, as production does.")
    env = report_latency.environment_for(args.calls, fresh=False)
    slug = env.organization.slug
    client, token = members(env)
    api = {"Authorization": f"Bearer {token}"}
    client.get(f"/o/{slug}/sync/")  # warm up: imports, template loading, connection
    total = Call.objects.filter(environment=env).count()
    print(f"{total:,} calls in one environment, {FIRST} – {LAST}; {args.runs} requests per "
          "cell; ms (wall p50 / p95, median CPU of this process)")
    head = f"{'page':44} {'report cold':^20} {'page rendered':^20} {'page kept':^20} {'target':>6}"
    print(head)
    print(f"{'':44} " + " ".join([f"{'p50':>6} {'p95':>6} {'cpu':>6}"] * 3) + f" {'p95':>6}")
    pages = [
        ("dashboard, 30 days", f"/o/{slug}/?{window(30)}"),
        ("dashboard, 90 days", f"/o/{slug}/?{window(90)}"),
        ("dashboard, 90 days, one agent",
         f"/o/{slug}/?{window(90)}&agent={env.agents.order_by('pk')[3].external_id}"),
        ("agents, 90 days", f"/o/{slug}/agents/?{window(90)}"),
        ("callbacks, 90 days", f"/o/{slug}/callbacks/?{window(90)}"),
    ]
    for label, url in pages:
        if args.only not in label:
            continue
        cold = timed(client, url, args.runs, cache.clear)
        rendered = timed(client, url, args.runs, forget_pages)
        kept = timed(client, url, args.runs)
        target = TARGETS.get(label)
        print(f"{label:44} " + " ".join(f"{c[0]:6.1f} {c[1]:6.1f} {c[2]:6.1f}"
                                        for c in (cold, rendered, kept))
              + (f" {target:6}" if target else ""))
    print()
    print(f"{'search form, needle':44} {'p50':>6} {'p95':>6} {'cpu':>6} {'target':>6} {'found':>6}")
    call = searched(env)
    agent = call.agent_external_id
    listing = f"/api/v1/environments/{env.pk}"
    forms = [
        ("explorer", f"/o/{slug}/calls/?start={FIRST}&end={LAST}&search=", None),
        ("compatible listing", f"{listing}/calls?search=", api),
        ("compatible agent listing", f"{listing}/agents/{agent}/calls?search=", api),
    ]
    for form, prefix, headers in forms:
        for what, needle in needles(call):
            label = f"{form}: {what}"
            if args.only not in label:
                continue
            url = prefix + quote(needle)
            response = client.get(url, headers=headers or {})
            found = (len(re.findall(rf'href="/o/{slug}/calls/\d+/', response.content.decode()))
                     if headers is None else len(response.json()["data"]))
            p50, p95, cpu = timed(client, url, args.runs, headers=headers)
            print(f"{label:44} {p50:6.1f} {p95:6.1f} {cpu:6.1f} {SEARCH_TARGET:6} {found:6}")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} (1/5/15 min) after the runs; the lead re-measures on a quiet machine")


if __name__ == "__main__":
    main()
