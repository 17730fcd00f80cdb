"""A paginator that does not COUNT(*) a million rows on every changelist page.

On PostgreSQL the count is the planner's estimate: `pg_class.reltuples` for an unfiltered
table, the `EXPLAIN` row estimate for a filtered one. Estimates below `exact_below` are
replaced by an exact count (cheap at that size, and the changelist shows everything on one
page when the count says it fits, so a low estimate must not hide rows). Other databases
count exactly.
"""
from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def estimated_count(queryset: QuerySet) -> int | None:
    """The planner's row estimate for `queryset`; None when unknown."""
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        if not queryset.query.where and not queryset.query.distinct:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
            # -1 (never analysed) or 0 (maybe never analysed): ask the planner instead.
            if row is not None and row[0] > 0:
                return int(row[0])
        try:
            sql, params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:
            # A filter that can match nothing, e.g. an id beyond the column's range (Django
            # knows without asking the database): no SQL to explain, and no rows.
            return 0
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Paginator whose `count` is an estimate for large PostgreSQL querysets."""

    exact_below = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        estimate = estimated_count(queryset) if isinstance(queryset, QuerySet) else None
        if estimate is None or estimate < self.exact_below:
            return queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        return estimate
