"""New rows of a model written by one COPY (PostgreSQL), or by `bulk_create` elsewhere.

Why: the rollups a back-fill refreshes are deleted and written again for every day it
finishes (`sync.write.rollups`), about 4,300 rows for 68,620 calls, 60 columns a row for the
agents' days. `bulk_create` prepared every value in Python, field by field: a seventh of the
writer thread's time holding the interpreter's lock, which the thread preparing the next
pages waits for. COPY takes the values as they are (JSON as its text) and formats them in
C. Nothing is returned: the rows' ids stay unset, as nothing reads them after a refresh.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from sync.fast_json import json_text


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert `objs` (new, unsaved) into `model`'s table, in the caller's transaction."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {q(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for obj in objs:
            values: list[Any] = [getattr(obj, name) for name in names]
            for i in json_at:
                values[i] = json_text(values[i])
            copy.write_row(values)
