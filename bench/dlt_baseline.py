"""The same back-fill done by dlt, for `bench/sync_throughput.py` to print beside ours.

Runs in its own virtualenv (dlt is no dependency of the project, only of its `bench` extra,
whose range this installs; never install it into the project's venv):

    python3.11 -m venv /work/dltvenv && /work/dltvenv/bin/pip install "dlt[postgres]>=1.5,<2"
    /work/dltvenv/bin/python bench/dlt_baseline.py --base-url http://127.0.0.1:8765/api/v1 \\
        --token talq_… --first 2026-01-01 --last 2026-03-31 \\
        --database-url postgres://postgres@127.0.0.1:5432/sb_bench_dlt

What a dlt user would write for this mirror: dlt's declarative `rest_api` source (the
default; `--source resource` instead: a hand-written generator resource with `requests`)
reading `/calls` a UTC day at a time (a parent resource gives the days), 100 calls a page by
page number up to the envelope's `pagination.last_page` (the requests our sync makes),
`write_disposition="merge"` on the call id (an upsert, as ours: a re-run must not
duplicate), dlt's default normalisation (the nested agent becomes columns) and its
PostgreSQL loader, into a fresh dataset of the given database. Prints one JSON line: calls
loaded, seconds (extract + normalise + load), peak RSS in MB of this process and of its
children, and the RSS once dlt is imported (before the work), this process's CPU seconds,
and the MB the calls table takes with its TOAST and indexes.
"""
from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

import dlt
import requests


def current_rss_mb() -> float:
    """This process's resident memory now (Linux), MB."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def calls(base_url: str, token: str, first: date, last: date):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    day = first
    while day <= last:
        page = 1
        while True:
            answer = session.get(f"{base_url}/calls", params={
                "date_from": day.isoformat(), "date_to": day.isoformat(),
                "per_page": 100, "page": page}, timeout=60)
            answer.raise_for_status()
            body = answer.json()
            if body["data"]:
                yield body["data"]
            if page >= body["pagination"]["last_page"] or not body["data"]:
                break
            page += 1
        day += timedelta(days=1)


def days(first: date, last: date):
    """The UTC days, as one page of items (a dependent resource reads pages)."""
    yield [{"day": (first + timedelta(days=n)).isoformat()}
           for n in range((last - first).days + 1)]


def rest_api_calls(base_url: str, token: str, first: date, last: date):
    """The same reading declared through dlt's `rest_api` source."""
    from dlt.sources.rest_api import rest_api_resources

    # A resource of a function (not of a generator): rest_api copies its resources.
    parent = dlt.resource(days, name="days", selected=False)(first, last)
    return rest_api_resources({
        "client": {"base_url": base_url.rstrip("/") + "/",
                   "auth": {"type": "bearer", "token": token}},
        "resources": [parent, {
            "name": "calls", "write_disposition": "merge", "primary_key": "id",
            "endpoint": {
                "path": "calls", "data_selector": "data",
                "params": {"date_from": "{resources.days.day}",
                           "date_to": "{resources.days.day}", "per_page": 100},
                "paginator": {"type": "page_number", "base_page": 1, "page_param": "page",
                              "total_path": "pagination.last_page"}}}]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--first", type=date.fromisoformat, required=True)
    parser.add_argument("--last", type=date.fromisoformat, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--source", choices=("rest_api", "resource"), default="rest_api")
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    if url.password is None:  # dlt insists on one; trust authentication ignores it
        url = url._replace(netloc=f"{url.username or 'postgres'}:unused@{url.hostname}"
                                  f"{f':{url.port}' if url.port else ''}")
    if args.source == "rest_api":
        resource_ = rest_api_calls(args.base_url, args.token, args.first, args.last)
    else:
        resource_ = dlt.resource(calls(args.base_url, args.token, args.first, args.last),
                                 name="calls", write_disposition="merge", primary_key="id")
    started_mb = current_rss_mb()
    with tempfile.TemporaryDirectory() as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name="bench_dlt", pipelines_dir=pipelines_dir,
            destination=dlt.destinations.postgres(credentials=urlunsplit(url)),
            dataset_name=f"talkover_{int(time.time())}", progress=None)
        start, cpu = time.perf_counter(), time.process_time()
        pipeline.run(resource_)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name("calls")
            loaded = client.execute_sql(f"SELECT count(*) FROM {table}")[0][0]
            # What the calls occupy: the table with its TOAST and indexes (its child
            # tables, if dlt made any, are counted too: they hold parts of the calls), and
            # by part as `sync_throughput` prints ours: rows, TOAST, indexes.
            stored, heap, toast, indexes = client.execute_sql(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0), "
                "coalesce(sum(pg_relation_size(c.oid)), 0), coalesce(sum("
                "pg_table_size(c.oid) - pg_relation_size(c.oid) - pg_relation_size(c.oid, "
                "'fsm') - pg_relation_size(c.oid, 'vm')), 0), "
                "coalesce(sum(pg_indexes_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname LIKE 'calls%%'",
                client.dataset_name)[0]
            client.drop_dataset()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"calls": loaded, "seconds": seconds, "requests": 0,
                      "rss_mb": max(own, children), "start_mb": started_mb,
                      "cpu": cpu, "table_mb": int(stored) / 1e6,
                      "parts": {"heap": int(heap), "toast": int(toast),
                                "indexes": int(indexes)}}))


if __name__ == "__main__":
    main()
