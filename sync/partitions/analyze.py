"""Planner statistics for the partitions a back-fill just filled (PostgreSQL; issue 36).

Why: a leaf partition created and filled by a back-fill has no statistics until autovacuum
gets to it (`reltuples` -1), so the planner guesses its size: a cut-SID search straight after
a 200k back-fill took 302 ms, 11x a day page, 27-38 ms once analysed. The back-fill knows
which months it wrote, so it analyses those leaves (of the organisation's retention tier)
itself, right after its last batch. ANALYZE samples a bounded number of rows per table,
so this costs a fraction of a second whatever the volume. Not partitioned: the calls table
itself. SQLite has no planner statistics to refresh: nothing is done there.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection

from portal.models import Environment
from sync.partitions import ddl
from sync.partitions.upsert import retention_tier


def analyze_filled(environment: Environment, days: Iterable[date]) -> list[str]:
    """ANALYZE the call partitions holding the UTC `days` a back-fill read; the tables."""
    if connection.vendor != "postgresql":
        return []
    days = list(days)
    if not days:
        return []
    if ddl.enabled():
        tier = retention_tier(environment)
        existing = ddl.leaves()
        tables = sorted({ddl.leaf_table(ddl.month_of(d), tier) for d in days
                         if (ddl.month_of(d), tier) in existing})
    else:
        tables = [ddl.TABLE]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')
    return tables
