"""The same back-fill done by dlt, for `bench/sync_throughput.py` to print beside ours.

Runs in its own virtualenv (dlt is no dependency of the project; never install it into the
project's venv):

    python3.11 -m venv /work/dltvenv && /work/dltvenv/bin/pip install "dlt[postgres]>=1.5,<2"
    /work/dltvenv/bin/python bench/dlt_baseline.py --base-url http://127.0.0.1:8765/api/v1 \\
        --token talq_… --first 2026-01-01 --last 2026-03-31 \\
        --database-url postgres://postgres@127.0.0.1:5432/sb_bench_dlt

What a dlt user would write for this mirror: one resource reading `/calls` a UTC day at a
time, 100 calls a page (the requests our sync makes), `write_disposition="merge"` on the
call id (an upsert, as ours: a re-run must not duplicate), dlt's default normalisation
(the nested agent becomes columns) and its PostgreSQL loader, into a fresh dataset of the
given database. Prints one JSON line: calls loaded, seconds (extract + normalise + load),
peak RSS in MB of this process and of its children, and the RSS once dlt is imported
(before the work), and this process's CPU seconds.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--first", type=date.fromisoformat, required=True)
    parser.add_argument("--last", type=date.fromisoformat, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    if url.password is None:  # dlt insists on one; trust authentication ignores it
        url = url._replace(netloc=f"{url.username or 'postgres'}:unused@{url.hostname}"
                                  f"{f':{url.port}' if url.port else ''}")
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
            client.drop_dataset()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"calls": loaded, "seconds": seconds, "requests": 0,
                      "rss_mb": max(own, children), "start_mb": started_mb,
                      "cpu": cpu}))


if __name__ == "__main__":
    main()
