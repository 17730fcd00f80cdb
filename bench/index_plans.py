"""The plans of the queries each index of the calls table serves, and of those whose index went
(docs/partitioning.md, "Indexes", quotes this script's output).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench python bench/index_plans.py

Reads a database that holds mirrored calls (after `bench/sync_throughput.py`, for one): the
environment with the most calls, one of its calls, and runs each query under
`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)` after an ANALYZE. Prints markdown:
the index, the query, its plan and its time (the query run again, best of three).
Nothing is written but statistics.
"""
from __future__ import annotations

import time

import benchkit  # bench/benchkit.py: what the benchmark scripts share

LISTING = ("SELECT id, external_id, started_at FROM sync_call WHERE environment_id = %(env)s "
           "AND started_at >= %(day)s AND started_at < %(day)s + interval '1 day' {extra}"
           "ORDER BY started_at DESC, external_id DESC LIMIT 50")
SEARCH_TEXT = "UPPER(sid || ' ' || external_id || ' ' || to_number || ' ' || from_number)"

# (index, what it serves, SQL); "-" for the index: a query whose index went.
QUERIES: list[tuple[str, str, str]] = [
    ("sync_call_pkey", "call page with its start (`?at=`)",
     "SELECT * FROM sync_call WHERE id = %(id)s AND started_at = %(at)s"),
    ("sync_call_pkey", "call page / API by id alone (every month's key asked once)",
     "SELECT * FROM sync_call WHERE id = %(id)s"),
    ("call_natural_key", "Origins stored hashes, hinted calls, admin call id (env, ids)",
     "SELECT external_id, payload_hash FROM sync_call WHERE environment_id = %(env)s "
     "AND external_id = ANY(%(ids)s)"),
    ("call_env_started", "listing / explorer page of a day, newest first",
     LISTING.format(extra="")),
    ("call_env_started", "rollup refresh of a day (sync.write.rollups)",
     "SELECT agent_external_id, status, count(*), sum(duration) FROM sync_call "
     "WHERE environment_id = %(env)s AND started_at >= %(day)s "
     "AND started_at < %(day)s + interval '1 day' GROUP BY 1, 2"),
    ("call_env_started", "status filter (its index `call_env_status_ext` went)",
     LISTING.format(extra="AND status = 'busy' ")),
    ("call_env_started", "direction filter (its index `call_env_direction_ext` went)",
     LISTING.format(extra="AND direction = 'inbound' ")),
    ("call_env_started", "explorer sorted by duration, 30 days (`call_env_duration` went)",
     "SELECT id FROM sync_call WHERE environment_id = %(env)s AND started_at >= %(day)s "
     "- interval '29 days' AND started_at < %(day)s + interval '1 day' "
     "ORDER BY duration DESC, id DESC LIMIT 50"),
    ("-", "admin's unfiltered list, newest started first (`call_started_id` went)",
     "SELECT id FROM sync_call ORDER BY started_at DESC, id DESC LIMIT 100"),
    ("call_env_started", "admin's list as it now reads: each environment walked newest "
     "first to the page's end (sync.admin.TimeOrderedCallPaginator)",
     "SELECT e.id, ARRAY(SELECT c.started_at FROM sync_call c WHERE c.environment_id = e.id "
     "ORDER BY c.started_at DESC, c.id DESC LIMIT 100), ARRAY(SELECT c.id FROM sync_call c "
     "WHERE c.environment_id = e.id ORDER BY c.started_at DESC, c.id DESC LIMIT 100) "
     "FROM portal_environment e"),
    ("call_env_agent_started", "an agent's calls of a day (listing, explorer)",
     LISTING.format(extra="AND agent_external_id = %(agent)s ")),
    ("call_env_agent_started", "is the agent known (listing's 422 check)",
     "SELECT 1 FROM sync_call WHERE environment_id = %(env)s "
     "AND agent_external_id = 'no-such-agent' LIMIT 1"),
    ("sync_call_agent_id_b7111cac", "environment deleted: its agents' calls set NULL",
     "SELECT id FROM sync_call WHERE agent_id = ANY(%(agents)s)"),
    ("call_env_search_gin", "search by the end of a SID (explorer, listing, reports)",
     f"SELECT id FROM sync_call WHERE environment_id = %(env)s "
     f"AND {SEARCH_TEXT} LIKE '%%' || %(core)s || '%%'"),
    ("call_env_search_gin", "exact SID (admin, webhook hints; `call_env_sid` went)",
     f"SELECT id FROM sync_call WHERE environment_id = %(env)s "
     f"AND {SEARCH_TEXT} LIKE '%%' || %(core)s || '%%' AND sid = %(sid)s"),
    ("call_env_search_gin", "search by a number's last digits",
     f"SELECT id FROM sync_call WHERE environment_id = %(env)s "
     f"AND {SEARCH_TEXT} LIKE '%%' || %(digits)s || '%%'"),
    ("call_env_search_gin", "transcript search",
     "SELECT id FROM sync_call WHERE environment_id = %(env)s AND transcript <> '' AND "
     "to_tsvector('simple'::regconfig, transcript) @@ websearch_to_tsquery('simple', 'hello')"),
    ("call_inbound_caller", "callback rule: inbound calls from a number (sync.callback_links)",
     "SELECT external_id FROM sync_call WHERE environment_id = %(env)s "
     "AND direction = 'inbound' AND regexp_replace(from_number, '\\D', '', 'g') = %(from)s "
     "AND started_at >= %(day)s"),
    ("call_outbound_dialled", "callback rule: outbound calls to a number (sync.callback_links)",
     "SELECT external_id FROM sync_call WHERE environment_id = %(env)s "
     "AND direction = 'outbound' AND NOT is_testing "
     "AND regexp_replace(to_number, '\\D', '', 'g') = %(to)s AND started_at <= %(at)s"),
]


def _trimmed(plan: list[str]) -> list[str]:
    """The plan without the partitions that hold nothing (empty months ahead and behind,
    scanned sequentially in no time), long literals cut."""
    out, skip = [], False
    for line in plan:
        if skip and line.lstrip().startswith(("Filter:", "Index Cond:", "Recheck Cond:")):
            continue
        skip = "(actual rows=0 loops=1)" in line and "Seq Scan on" in line
        if not skip:
            out.append(line if len(line) <= 140 else line[:137] + "…")
    return out


def main() -> None:
    benchkit.production_settings()
    benchkit.setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_call")
        cursor.execute("SELECT environment_id, count(*) FROM sync_call GROUP BY 1 "
                       "ORDER BY 2 DESC LIMIT 1")
        env, calls = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM sync_call")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, started_at, sid, external_id, agent_external_id, to_number, "
            "from_number, (started_at AT TIME ZONE 'UTC')::date FROM sync_call "
            "WHERE environment_id = %s ORDER BY started_at DESC OFFSET %s LIMIT 1",
            [env, calls // 3])
        pk, at, sid, external_id, agent, to, frm, day = cursor.fetchone()
        cursor.execute("SELECT array_agg(id) FROM sync_agent WHERE environment_id = %s", [env])
        agents = cursor.fetchone()[0] or []
        cursor.execute("SELECT array_agg(external_id) FROM (SELECT external_id FROM sync_call "
                       "WHERE environment_id = %s LIMIT 100) t", [env])
        ids = cursor.fetchone()[0]
        params = {"env": env, "id": pk, "at": at, "sid": sid, "ids": ids, "agent": agent,
                  "core": sid.upper()[-12:], "digits": "".join(c for c in to if c.isdigit())[-7:],
                  "day": day, "agents": agents[:50],
                  "to": "".join(c for c in to if c.isdigit()),
                  "from": "".join(c for c in frm if c.isdigit())}
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'sync_call' "
                       "ORDER BY indexname")
        names = [n for (n,) in cursor.fetchall()]
        print(f"{total} calls, environment {env} with {calls}; indexes of sync_call "
              f"({len(names)}): {', '.join(names)}\n")
        for index, serves, sql in QUERIES:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql,
                           params)
            plan = _trimmed([line for (line,) in cursor.fetchall()])
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                best = min(best, time.perf_counter() - start)
            print(f"**{index}** — {serves}: {best * 1000:.1f} ms\n\n```\n{sql}\n")
            print("\n".join(plan[:30]) + ("\n…" if len(plan) > 30 else "") + "\n```\n")


if __name__ == "__main__":
    main()
