"""What the search index's pending entries cost a search, and what merging them gives.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_sync_bench python bench/search_pending.py \
        [--limit-kb 4096,32768]

Needs a database holding mirrored calls (after `bench/sync_throughput.py`, say). For each
pending-list limit, the calls are written into an empty twin of the calls table (same
indexes: `CREATE TABLE … (LIKE sync_call INCLUDING ALL)`, one table, as one month's leaf) the
way a sync writes them, 1,000 rows a statement, the search GIN taking them into its pending
list (GIN's fast update) and merging the list into its tree whenever it passes the limit;
then 30 needles (15 numbers' last 7 digits, 15 SIDs' last 12 characters) × 3 are searched as
`reports.call_search` searches (the environment as a bigint constant, the joined text LIKE
'%needle%', bitmap scans only), the pending list is merged (`gin_clean_pending_list`, what
`sync.partitions.pending` does after a back-fill) and the same searches run again. Prints
the insert time, the pages left pending and merged, and the searches' median and p90 (ms) by
needle kind before and after the merge. The twin is dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg
from search_isolation import BITMAP_ONLY, SEARCH_TEXT  # bench/: the search as it is probed

TWIN = "bench_pending_twin"
ROWS_PER_STATEMENT = 1000


def searches(conn: psycopg.Connection, environment: int, needles: list[str]
             ) -> dict[str, list[float]]:
    """Milliseconds per search, by needle kind (the first 15 are numbers, the rest SIDs)."""
    times: dict[str, list[float]] = {"number": [], "SID": []}
    with conn.transaction():
        for setting in BITMAP_ONLY:
            conn.execute(setting.replace("SET", "SET LOCAL"))
        for _ in range(3):
            for i, needle in enumerate(needles):
                start = time.perf_counter()
                conn.execute(f"SELECT id FROM {TWIN} WHERE environment_id = "
                             f"{environment}::bigint AND {SEARCH_TEXT} LIKE %s",
                             [f"%{needle}%"]).fetchall()
                times["number" if i < 15 else "SID"].append(
                    (time.perf_counter() - start) * 1000)
    return times


def figures(times: dict[str, list[float]]) -> str:
    """median / p90 per needle kind."""
    return " | ".join(f"{statistics.median(v):.1f} / {sorted(v)[int(len(v) * 0.9)]:.1f} ms"
                      for v in times.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-kb", default="4096,32768",
                        help="gin_pending_list_limit values to try, in kB")
    args = parser.parse_args()
    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    row = conn.execute("SELECT environment_id, count(*) FROM sync_call GROUP BY 1 "
                       "ORDER BY 2 DESC LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("no calls here: run bench/sync_throughput.py first")
    environment, calls = row
    needles = [r[0] for r in conn.execute(
        "SELECT right(to_number, 7) FROM sync_call WHERE environment_id = %s "
        "ORDER BY started_at LIMIT 15", [environment])]
    needles += [r[0] for r in conn.execute(
        "SELECT upper(right(sid, 12)) FROM sync_call WHERE environment_id = %s "
        "ORDER BY started_at DESC LIMIT 15", [environment])]
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM sync_call WHERE environment_id = %s ORDER BY started_at, id",
        [environment])]
    print(f"{calls:,} calls of environment {environment}, written "
          f"{ROWS_PER_STATEMENT:,} a statement; load average {os.getloadavg()[0]:.1f}\n")
    print("| pending limit | insert s | pages pending | number search, pending | SID search, "
          "pending | merge s | number search, merged | SID search, merged |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")
    try:
        for limit in (int(v) for v in args.limit_kb.split(",")):
            conn.execute(f"DROP TABLE IF EXISTS {TWIN}")
            conn.execute(f"CREATE TABLE {TWIN} (LIKE sync_call INCLUDING ALL)")
            index = conn.execute(
                "SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON "
                "c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = "
                "%s::regclass AND a.amname = 'gin'", [TWIN]).fetchone()[0]
            conn.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {limit})")
            start = time.perf_counter()
            for i in range(0, len(ids), ROWS_PER_STATEMENT):
                conn.execute(f"INSERT INTO {TWIN} SELECT * FROM sync_call WHERE id = ANY(%s) "
                             f"AND environment_id = %s",
                             [ids[i:i + ROWS_PER_STATEMENT], environment])
            inserted = time.perf_counter() - start
            conn.execute(f"ANALYZE {TWIN}")
            before = searches(conn, environment, needles)
            start = time.perf_counter()
            pages = conn.execute("SELECT gin_clean_pending_list(%s::regclass)",
                                 [index]).fetchone()[0]
            merged = time.perf_counter() - start
            after = searches(conn, environment, needles)
            print(f"| {limit / 1024:g} MB | {inserted:.1f} | {pages:,} | {figures(before)} | "
                  f"{merged:.2f} | {figures(after)} |", flush=True)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {TWIN}")


if __name__ == "__main__":
    main()
