"""Does one tenant's search cost depend on what other tenants hold in the same month?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench python bench/search_isolation.py \
        [--calls 100000] [--others 5] [--interleaved] [--needles both|sids|numbers]

Scratch tables in DATABASE_URL's database (dropped at the end), shaped like one month
partition: `--calls` simulator-shaped calls of tenant 1 alone, and the same calls sharing
the table with `--others` × as many calls of other tenants. Each gets the search's GIN
index as the sync migration builds it (environment, trigrams of the joined search
text, transcript words); the shared one also the trigram-only GIN that came
before it. 30 needles (15 numbers' last 7 digits, 15 SIDs' last 12 characters; `--needles`
keeps one kind) × 3, with only bitmap scans allowed, as `reports.call_search` probes; prints
median and p90 per case. Tenant 1's rows come first in the shared table, as one back-fill writes
them, or spread among the others' (`--interleaved`), as incremental syncs write a month: the
environment in the GIN scan skips the others' postings only in the first layout.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg

SEARCH_TEXT = "UPPER(sid || ' ' || external_id || ' ' || to_number || ' ' || from_number)"
ENV_GIN = (f"USING gin (environment_id, ({SEARCH_TEXT}) gin_trgm_ops, "
           f"to_tsvector('simple'::regconfig, transcript))")
PLAIN_GIN = f"USING gin (({SEARCH_TEXT}) gin_trgm_ops)"
FILL = """
CREATE UNLOGGED TABLE {table} AS SELECT g AS id,
  (CASE WHEN {tenant_one} THEN 1 ELSE 2 + g %% %(others)s END)::bigint AS environment_id,
  gen_random_uuid()::text AS external_id, 'CA' || md5(random()::text) AS sid,
  '+55' || (1100000000 + (random() * 899999999)::bigint)::text AS to_number,
  '+1' || (2000000000 + (random() * 7999999999)::bigint)::text AS from_number,
  ''::text AS transcript
FROM generate_series(1, %(total)s) g
"""
BITMAP_ONLY = ("SET enable_seqscan = off", "SET enable_indexscan = off",
               "SET enable_indexonlyscan = off", "SET max_parallel_workers_per_gather = 0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="tenant 1's calls")
    parser.add_argument("--others", type=int, default=5, help="other tenants, as many each")
    parser.add_argument("--interleaved", action="store_true",
                        help="tenant 1's rows spread among the others' (default: first)")
    parser.add_argument("--needles", choices=("both", "sids", "numbers"), default="both")
    args = parser.parse_args()
    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    conn.execute("SET maintenance_work_mem = '256MB'")
    total = args.calls * (args.others + 1)
    try:
        conn.execute("DROP TABLE IF EXISTS iso_shared, iso_alone")
        # Tenant 1's rows first (as one back-fill writes them) or every (others + 1)th row (as
        # the tenants' incremental syncs interleave them in the month).
        tenant_one = ("g %% (%(others)s + 1) = 0" if args.interleaved
                      else "g <= %(calls)s")
        conn.execute(FILL.format(table="iso_shared", tenant_one=tenant_one),
                     {"calls": args.calls, "others": args.others, "total": total})
        conn.execute("CREATE UNLOGGED TABLE iso_alone AS "
                     "SELECT * FROM iso_shared WHERE environment_id = 1")
        conn.execute(f"CREATE INDEX iso_alone_env ON iso_alone {ENV_GIN}")
        conn.execute(f"CREATE INDEX iso_shared_env ON iso_shared {ENV_GIN}")
        conn.execute(f"CREATE INDEX iso_shared_plain ON iso_shared {PLAIN_GIN}")
        conn.execute("VACUUM ANALYZE iso_alone")
        conn.execute("VACUUM ANALYZE iso_shared")
        needles = [] if args.needles == "sids" else [r[0] for r in conn.execute(
            "SELECT right(to_number, 7) FROM iso_alone ORDER BY id LIMIT 15")]
        needles += [] if args.needles == "numbers" else [r[0] for r in conn.execute(
            "SELECT upper(right(sid, 12)) FROM iso_alone ORDER BY id DESC LIMIT 15")]

        def run(label: str, table: str, environment: str, hidden: str | None = None) -> None:
            with conn.transaction():
                for setting in BITMAP_ONLY:
                    conn.execute(setting.replace("SET", "SET LOCAL"))
                if hidden:  # this transaction's planner does not see it
                    conn.execute(f"DROP INDEX {hidden}")
                times = []
                for _ in range(3):
                    for needle in needles:
                        start = time.perf_counter()
                        conn.execute(f"SELECT id FROM {table} WHERE environment_id = "
                                     f"{environment} AND {SEARCH_TEXT} LIKE %s",
                                     [f"%{needle}%"]).fetchall()
                        times.append((time.perf_counter() - start) * 1000)
                print(f"| {label} | {statistics.median(times):.1f} ms | "
                      f"{sorted(times)[int(len(times) * 0.9)]:.1f} ms |", flush=True)
                raise psycopg.Rollback()  # the dropped index comes back

        print(f"tenant 1: {args.calls} calls; shared: {total} calls of {args.others + 1} "
              f"tenants, tenant 1's {'interleaved' if args.interleaved else 'first'}; needles: "
              f"{args.needles}; load average {os.getloadavg()[0]:.1f}\n")
        print("| case | median | p90 |\n|---|---:|---:|")
        run("alone, GIN (environment, trigrams)", "iso_alone", "1::bigint")
        run("shared, trigram GIN (before)", "iso_shared", "1", hidden="iso_shared_env")
        run("shared, GIN (environment, trigrams), integer constant", "iso_shared", "1",
            hidden="iso_shared_plain")
        run("shared, GIN (environment, trigrams), bigint constant (after)", "iso_shared",
            "1::bigint", hidden="iso_shared_plain")
    finally:
        conn.execute("DROP TABLE IF EXISTS iso_shared, iso_alone")


if __name__ == "__main__":
    main()
