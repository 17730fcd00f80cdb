"""Planner statistics for the partitions a back-fill just filled (PostgreSQL).

Why: a leaf partition created and filled by a back-fill has no statistics until autovacuum
gets to it (`reltuples` -1), so the planner guesses its size: a cut-SID search straight after
a 200k back-fill took 302 ms, 11x a day page, 27-38 ms once analysed. The back-fill knows
which months it wrote, so it analyses those leaves (of the organisation's retention tier)
itself, right after its last batch.

Only a leaf the back-fill changed materially: one never analysed, one analysed empty that now
holds rows, or one whose rows grew since its last ANALYZE by autovacuum's own measure
(`autovacuum_analyze_threshold` + `autovacuum_analyze_scale_factor` x its rows; 50 + 10 % by
default) — autovacuum's rule, applied now instead of at its next round. A month leaf holds
every tenant of the tier, so analysing it for each small environment's back-fill re-sampled
the whole month every time (in the 200-environment fleet a small calls back-fill took 1.10 s
so, 0.63 s with this rule), and a small environment's rows do not move the month's statistics.
The growth is the larger of the rows this run wrote and the leaf's pages now against its pages
at the last ANALYZE (at that ANALYZE's rows per page; a continued back-fill's earlier runs
count there). PostgreSQL's own `n_mod_since_analyze` is not used: other connections' writes
reach it up to a second late, so it still counted the back-fill's last batches after its
ANALYZE.

A leaf analysed before this environment wrote to it, whose statistics say every row (`KNOWN`
of them or more) belongs to environments listed there, is stale for this back-fill: the
planner estimates the new environment's rows at nearly none and plans its statements that way
(the resolution probes of `sync.outcomes.settle_written` ran for minutes on a month whose
statistics knew only an environment since removed, `bench/backfill_pace.py` run twice on one
database). Such a leaf is analysed again at the back-fill's first batch in it when that batch
is material by the rule above (a small environment's few rows still do not re-sample a month).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection

from portal.models import Environment
from sync.partitions import ddl
from sync.partitions.upsert import retention_tier

# The share of a leaf's rows its statistics give to the environments they list, from which
# an environment they do not list is taken for one they know nothing of.
KNOWN = 0.9

MATERIAL = """current_setting('autovacuum_analyze_threshold')::float8
             + current_setting('autovacuum_analyze_scale_factor')::float8 * c.reltuples"""

STALE = f"""
SELECT c.relname FROM pg_class c
WHERE c.relname = ANY(%(tables)s) AND c.relnamespace = current_schema()::regnamespace
  AND (c.reltuples < 0
       OR (c.relpages = 0 AND pg_relation_size(c.oid) > 0)
       OR NOT %(unanalysed_only)s AND greatest(%(written)s, CASE WHEN c.relpages > 0 THEN
             pg_relation_size(c.oid) / current_setting('block_size')::float8
             * c.reltuples / c.relpages - c.reltuples ELSE 0 END) >= {MATERIAL}
       OR %(written)s >= {MATERIAL} AND EXISTS (
             SELECT 1 FROM pg_stats s
             WHERE s.schemaname = current_schema() AND s.tablename = c.relname
               AND s.attname = 'environment_id'
               AND NOT %(env)s::text = ANY(s.most_common_vals::text::text[])
               AND (SELECT sum(f) FROM unnest(s.most_common_freqs) f) >= {KNOWN}))
ORDER BY c.relname"""


def filled_tables(environment: Environment, days: Iterable[date]) -> list[str]:
    """The call tables holding the environment's UTC `days`: the leaves of their months in
    the organisation's retention tier (those that exist)."""
    days = list(days)
    if not days:
        return []
    tier = retention_tier(environment)
    existing = ddl.leaves()
    return sorted({ddl.leaf_table(ddl.month_of(d), tier) for d in days
                   if (ddl.month_of(d), tier) in existing})


def analyze_filled(environment: Environment, days: Iterable[date], written: int, *,
                   unanalysed_only: bool = False) -> list[str]:
    """ANALYZE the call partitions holding the UTC `days` a back-fill read that it changed
    materially (`written`: the rows this run created or updated); the tables analysed.
    `unanalysed_only`: only those holding rows without statistics, or whose statistics know
    nothing of this environment while it writes materially there."""
    tables = filled_tables(environment, days)
    if not tables:
        return []
    with connection.cursor() as cursor:
        cursor.execute(STALE, {"tables": tables, "written": written, "env": environment.pk,
                               "unanalysed_only": unanalysed_only})
        stale = [name for (name,) in cursor.fetchall()]
        for table in stale:
            cursor.execute(f'ANALYZE "{table}"')
    return stale
