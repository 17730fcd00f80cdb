"""Where a request's CPU goes: templates, drill links, queries, the rest — load-independent.

Usage (PostgreSQL and Redis; the 1M-call mirror is `bench/report_latency.py`'s, built on the
first run and reused):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench_pages \\
    REDIS_URL=redis://127.0.0.1:6379/6 python bench/render_share.py [--runs 30] [--profile LABEL]

`bench/api_load.py` measures requests per second, which on a shared 2-core machine says as much
about the neighbours as about the code. This script runs the same cases through the test
client in one process (production settings: DEBUG off, the cached template loader) and
measures the CPU time of the serving thread only (`time.thread_time`), split into:

- `templates`: inside the outermost `Template.render` (includes, tags and filters in it),
  less the queries a template runs (a lazy context value read there);
- `drill`: building drill-link URLs (`reports.drill.Drill.url`), wherever it runs;
- `query`: the ORM's work, from compiling a query to its rows as objects (PostgreSQL's own
  time is not this process's);
- `other`: middleware, view code, serialisers, cache reads and writes.

Cases: the dashboard over 30 days with nothing kept (summaries computed: `cold`) and with
the summaries cached but the page not kept (`rendered`); the calls explorer searched by a SID
cut as its table shows it (never kept); the Talkover-compatible listing
(`status=completed&per_page=100`); the cached calls report JSON. Target: the cold
dashboard and the search page spend at most 25 % of their CPU in templates.

`--profile LABEL` prints cProfile's top functions of that case's runs (CPU time; `--sort`,
`--top`).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LOG_LEVEL", "WARNING")
import benchkit  # noqa: E402

benchkit.production_settings()

import report_latency  # noqa: E402  (sets Django up; the shared COPY loader)
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import QuerySet  # noqa: E402
from django.db.models.sql.compiler import SQLCompiler  # noqa: E402
from django.template import base as template_base  # noqa: E402
from pages_render import forget_pages, members  # noqa: E402

from reports import drill  # noqa: E402
from sync.models import Call  # noqa: E402

LAST = report_latency.LAST_DAY
TEMPLATE_TARGET = 0.25


class Meter:
    """CPU seconds in templates (outermost render), drill URLs and queries (the ORM's work
    from compiling a query to its rows as objects, SQL round trips included)."""

    def __init__(self) -> None:
        self.template = self.drill = self.queries = self.queries_in_template = 0.0
        self._depth = self._query_depth = 0

    def reset(self) -> None:
        self.template = self.drill = self.queries = self.queries_in_template = 0.0

    def _timed_query(self, run, *args, **kwargs):
        if self._query_depth:
            return run(*args, **kwargs)
        self._query_depth += 1
        began = time.thread_time()
        try:
            return run(*args, **kwargs)
        finally:
            spent = time.thread_time() - began
            self._query_depth -= 1
            self.queries += spent
            if self._depth:
                self.queries_in_template += spent

    @contextmanager
    def installed(self):
        meter = self
        render, url = template_base.Template.render, drill.Drill.url
        fetch_all, execute_sql = QuerySet._fetch_all, SQLCompiler.execute_sql

        def timed_render(template, context):
            if meter._depth:
                return render(template, context)
            meter._depth += 1
            began = time.thread_time()
            try:
                return render(template, context)
            finally:
                meter.template += time.thread_time() - began
                meter._depth -= 1

        def timed_url(doors, **narrow):
            began = time.thread_time()
            try:
                return url(doors, **narrow)
            finally:
                meter.drill += time.thread_time() - began

        template_base.Template.render = timed_render
        drill.Drill.url = timed_url
        QuerySet._fetch_all = lambda qs: meter._timed_query(fetch_all, qs)
        SQLCompiler.execute_sql = (
            lambda compiler, *a, **k: meter._timed_query(execute_sql, compiler, *a, **k))
        try:
            yield
        finally:
            template_base.Template.render, drill.Drill.url = render, url
            QuerySet._fetch_all, SQLCompiler.execute_sql = fetch_all, execute_sql


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", default="", help="cProfile this case (label substring)")
    parser.add_argument("--only", default="", help="only the cases whose label has this")
    parser.add_argument("--sort", default="cumulative", help="cProfile's order (tottime, …)")
    parser.add_argument("--top", type=int, default=45, help="functions the profile lists")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not hasattr(cache, "_cache"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL, as production does.")
    call_command("collectstatic", "--noinput", verbosity=0)  # the pages' static manifest
    env = report_latency.environment_for(1_000_000, fresh=False)
    slug = env.organization.slug
    client, token = members(env)
    api = {"Authorization": f"Bearer {token}"}
    sid = Call.objects.filter(environment=env).values_list("sid", flat=True)[4321]
    first30, first90 = LAST - timedelta(days=29), LAST - timedelta(days=89)
    dashboard = f"/o/{slug}/?range=custom&start={first30}&end={LAST}"
    warm_report = (f"/api/v1/reports/calls/?environment={env.pk}&start_date={first90}"
                   f"&end_date={LAST}&interval=day")
    cases = [
        ("dashboard 30 days, cold", dashboard, None, cache.clear),
        ("dashboard 30 days, rendered", dashboard, None, forget_pages),
        ("explorer, cut SID search",
         f"/o/{slug}/calls/?date_from={first90}&date_to={LAST}&search={sid[:13]}", None, None),
        ("compatible listing, completed, 100",
         f"/api/v1/environments/{env.pk}/calls?status=completed&per_page=100", api, None),
        ("calls report JSON, cached", warm_report, api, None),
    ]
    meter = Meter()
    client.get(f"/o/{slug}/sync/", secure=True)  # imports, template loading, connection
    print(f"CPU ms per request of this process (median of {args.runs}); shares of the total")
    print(f"{'case':36} {'total':>7} {'tmpl':>6} {'drill':>6} {'query':>6} {'other':>6} "
          f"{'tmpl %':>7} {'drill %':>7}")
    for label, url, headers, prepare in cases:
        if args.only not in label:
            continue
        for _ in range(3):  # warm: caches filled, code paths imported
            if prepare is not None:
                prepare()
            response = client.get(url, headers=headers or {}, secure=True)
            assert response.status_code == 200, (label, url, response.status_code)
        rows = []
        profiled = args.profile and args.profile in label
        profiler = cProfile.Profile(time.thread_time) if profiled else None
        with meter.installed():
            for _ in range(args.runs):
                if prepare is not None:
                    prepare()
                meter.reset()
                began = time.thread_time()
                if profiler is not None:
                    profiler.enable()
                response = client.get(url, headers=headers or {}, secure=True)
                if profiler is not None:
                    profiler.disable()
                total = time.thread_time() - began
                assert response.status_code == 200, (label, response.status_code)
                templates = meter.template - meter.queries_in_template
                rows.append((total, templates, meter.drill, meter.queries))
        total, templates, drills, queries = (statistics.median(c) * 1000
                                             for c in zip(*rows, strict=True))
        other = total - templates - queries
        print(f"{label:36} {total:7.1f} {templates:6.1f} {drills:6.1f} {queries:6.1f} "
              f"{other:6.1f} "
              f"{templates / total:7.0%} {drills / total:7.0%}")
        if profiler is not None:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} (1/5/15 min); CPU time of the serving thread (PostgreSQL's not "
          f"included). `drill` is counted inside `tmpl` or `other`, wherever it ran. Target: "
          f"cold dashboard and search page ≤ {TEMPLATE_TARGET:.0%} in templates")


if __name__ == "__main__":
    main()
