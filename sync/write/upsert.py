"""Bulk upserts that classify every row as created, updated or unchanged.

Never a query per row. The rows travel by COPY into a temporary staging table
(made once per run by a `sync.write.batch_writer.BatchWriter`, which merges many pages at a time)
and are merged with one `INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE the hash differs
RETURNING (xmax = 0)`: the database classifies (new rows have xmax 0, unchanged rows are not
rewritten), so a page costs no extra SELECT. Django's `bulk_create` quotes every value of its
UNNEST arrays in Python, which made writing cost several times the fetching (see
bench/sync_throughput.py).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

from django.db import connection, models
from django.utils import timezone

from portal.models import Environment
from sync.callback_links import STAGED_COLUMNS, relink_written
from sync.excluded_numbers import mark_staged
from sync.fast_json import canonical_text
from sync.models import Call
from sync.outcomes import Settling, settle_staged, settle_written
from sync.outcomes import enabled as resolution_enabled
from sync.partitions import upsert as partition_upsert
from sync.partitions.upsert import RunKeys
from sync.privacy import arrival
from sync.stored_record import stored_text


@dataclass(frozen=True, slots=True)
class CanonicalJSON:
    """A JSON value with its canonical text (sorted keys, no spaces) and that text's digest.

    A row's `raw` given this way is serialised once: the digest and the text written by COPY
    come from the same `json.dumps`, which was the largest Python cost of a back-fill page.
    """

    value: Any
    text: str
    digest: str


@dataclass(frozen=True, slots=True)
class JSONText:
    """A JSON value with the text COPY writes for it: what a call's `raw` holds once its
    record is stored without what the columns give back (`sync.stored_record`)."""

    value: Any
    text: str


def canonical(payload: Any) -> CanonicalJSON:
    text = canonical_text(payload)
    return CanonicalJSON(payload, text,
                         hashlib.md5(text.encode(), usedforsecurity=False).hexdigest())


def payload_hash(payload: Any) -> str:
    """A stable digest of a JSON value (key order does not matter)."""
    return canonical(payload).digest


@dataclass
class Counts:
    """Rows created / updated / unchanged / rejected by one or more writes."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        return self

    @property
    def changed(self) -> int:
        return self.created + self.updated


Row = dict[str, Any]


def upsert(model: type[models.Model], environment: Environment, rows: list[Row], *,
           key: str, update_fields: list[str], run_keys: RunKeys | None = None) -> Counts:
    """Write `rows` (field attname → value, with `payload_hash`) keyed by (environment, key).

    Fields a row leaves out take their model default (set in the row itself). Later
    duplicates of a key win.
    `last_changed_at`, where the model has it, is set on rows created or changed.
    `run_keys`: the sync run's call ids (`sync.partitions.upsert.RunKeys`), when calls.
    """
    return upsert_keys(model, environment, rows, key=key, update_fields=update_fields,
                       run_keys=run_keys)[0]


def upsert_keys(model: type[models.Model], environment: Environment, rows: list[Row], *,
                key: str, update_fields: list[str], staged: bool = False,
                run_keys: RunKeys | None = None, ordered: Callable[[], None] | None = None,
                settling: Settling | None = None) -> tuple[Counts, list[Any]]:
    """`upsert`, also returning the keys of the rows created or changed (`staged`, `ordered`:
    see `copy_upsert`; `settling`: the calls' resolution, `sync.outcomes.Settling`, when the
    write before this one may still be in flight)."""
    unique: dict[Any, Row] = {row[key]: row for row in rows}
    if not unique:
        return Counts(), []
    defaults = {f.attname: f.get_default() for f in model._meta.concrete_fields
                if not f.primary_key}
    if "last_changed_at" in defaults:
        defaults["last_changed_at"] = timezone.now()
    full = list(unique.values())
    if model is Call:
        # Erased callers and kinds past their retention are written anonymised.
        arrival.on_calls(environment, full, canonical)
        _store_records(environment, full)
    # The relink reads some columns of calls from the staging table: always copied; so are
    # the next contact, which `settle_staged` fills in there before the merge, and the flag
    # of a number left out of resolution, which `mark_staged` sets there before it.
    settles = model is Call and resolution_enabled()
    settling = settling or Settling()
    keep = ((*STAGED_COLUMNS, "contact_excluded", *(("next_contact_at",) if settles else ()))
            if model is Call else ())
    constants = fill_defaults(full, defaults, keep=keep)
    # Partitioned calls: the database's key has the partition key (sync.partitions.upsert).
    keyed = partition_upsert.prepare(model, environment, full)
    counts, changed, updated = copy_upsert(
        model, full, ["environment", key, *keyed], update_fields, key, staged=staged,
        run_keys=run_keys, ordered=ordered, constants=constants,
        before_merge=(_before_call_merge(environment, settling, settles)
                      if model is Call else None))
    if model is Call and changed:
        # In the write's transaction, after the writes before it committed (`ordered`); the
        # statement reads the rows from the staging table the merge read.
        relink_written(environment, [unique[k] for k in changed], updated=updated,
                       staged=stage_table(model), every_staged=len(changed) == len(full))
        if settles:
            settle_written(environment, changed, staged=stage_table(model),
                           every_staged=len(changed) == len(full), updated=updated,
                           settling=settling, created=[unique[k]["started_at"]
                                                       for k in changed if k not in updated])
    return counts, changed


def _before_call_merge(environment: Environment, settling: Settling, settles: bool
                       ) -> Callable[[], None]:
    """What a write of calls does to its staged rows before the merge: flag the numbers left
    out of resolution, then (`settles`) give each its next contact, which reads the flag."""
    def staged() -> None:
        mark_staged(environment, stage_table(Call))
        if settles:
            settle_staged(environment, stage_table(Call), settling)
    return staged


def fill_defaults(rows: list[Row], defaults: dict[str, Any], keep: Collection[str] = ()
                  ) -> dict[str, Any]:
    """Give the rows, in place, the defaults of the fields some of them set and others do
    not (and of the fields in `keep`, which stay columns); return the fields none of them
    sets, with their defaults: the merge writes those as constants of its statement
    (`copy_upsert`).

    Why: a provider's rows leave a third of the fields to their defaults (a Talkover call
    has no hangup cause, no transcript, no first-seen instant of its own), and filling and
    COPYing those row by row was a tenth of a back-fill's Python time, on the writer thread.
    In place: a copy of every row doubled a batch's memory.
    """
    seen = Counter(chain.from_iterable(rows))  # every row's keys, counted in C
    constants: dict[str, Any] = {}
    for name, value in defaults.items():
        held = seen.get(name, 0)
        if held == 0 and name not in keep:
            constants[name] = value
        elif held < len(rows):
            for row in rows:
                row.setdefault(name, value)
    return constants


def stage_table(model: type[models.Model]) -> str:
    """The quoted name of `model`'s per-connection staging table."""
    return connection.ops.quote_name(f"stage_{model._meta.db_table}")


def ensure_stage(model: type[models.Model]) -> None:
    """Create `model`'s staging table for this connection if it is missing.

    A writer calls it once per run, outside its batches' transactions, so a rolled-back
    batch cannot take the table with it; every batch then only empties it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_create_stage_sql(model))


def _create_stage_sql(model: type[models.Model]) -> str:
    """The staging table of `model`, made if missing: every column but the primary key."""
    q, meta = connection.ops.quote_name, model._meta
    columns = ", ".join(q(f.column) for f in meta.concrete_fields if not f.primary_key)
    return (f"CREATE TEMP TABLE IF NOT EXISTS {stage_table(model)} AS "
            f"SELECT {columns} FROM {q(meta.db_table)} WITH NO DATA")


def copy_upsert(model: type[models.Model], rows: list[Row], unique_fields: list[str],
                update_fields: list[str], key: str, *, staged: bool = False,
                run_keys: RunKeys | None = None, ordered: Callable[[], None] | None = None,
                constants: dict[str, Any] | None = None,
                before_merge: Callable[[], None] | None = None
                ) -> tuple[Counts, list[Any], set[Any]]:
    """COPY `rows` into a per-connection staging table, merge, classify; also
    return the `key` of every row created or changed, and the set of those changed (they
    existed before). `staged`: the caller made the staging
    table already (`ensure_stage`), so it is only emptied. `ordered`: called after the merge,
    before anything that writes other rows (moved calls): a concurrent batch writer waits
    there for the batch before to commit (`sync.write.batch_writer`). `constants`: fields
    (attname → value) no row holds, the same for all of them (`fill_defaults`): not copied,
    the merge writes them as typed constants (their staging columns stay NULL).
    `before_merge`: called once the rows are staged, before the merge (it may change them
    there: `sync.outcomes.settle_staged`)."""
    meta = model._meta
    q = connection.ops.quote_name
    constants = constants or {}
    every = [f for f in meta.concrete_fields if not f.primary_key]
    fields = [f for f in every if f.attname not in constants]
    fixed = [f for f in every if f.attname in constants]
    columns = ", ".join(q(f.column) for f in (*fields, *fixed))
    # Each constant cast to its column's type: an untyped literal would be text.
    selected = ", ".join([*(q(f.column) for f in fields),
                          *(f"%s::{f.db_type(connection)}" for f in fixed)])
    fixed_params = [f.get_db_prep_save(constants[f.attname], connection) for f in fixed]
    table, stage = q(meta.db_table), stage_table(model)
    conflict = ", ".join(q(meta.get_field(n).column) for n in unique_fields)
    partitioned = [n for n in unique_fields if n in partition_upsert.PARTITION_FIELDS]
    updates = ", ".join(f"{c} = EXCLUDED.{c}"
                        for c in (q(meta.get_field(n).column) for n in update_fields
                                  if n not in partitioned))
    hash_col = q(meta.get_field("payload_hash").column)
    # A partitioned table has no xmax to return: partition_upsert says how to tell new rows.
    created_sql, created_params = (partition_upsert.created_test(rows, constants)
                                   if partitioned else ("(xmax = 0)", []))
    key_col = q(meta.get_field(key).column)
    with connection.cursor() as cursor:
        # One round trip; the staging table lives as long as the connection and is emptied
        # before use (emptying it at every commit instead cost more than a page's rows).
        if staged:
            cursor.execute(f"TRUNCATE {stage}")
        else:
            cursor.execute(f"{_create_stage_sql(model)}; TRUNCATE {stage}")
        _copy_into(cursor, stage, fields, rows)
        if partitioned and run_keys is not None:
            run_keys.before_merge(cursor, table, rows[0]["environment_id"])
        if before_merge is not None:
            before_merge()
        cursor.execute(
            f"INSERT INTO {table} AS t ({columns}) SELECT {selected} FROM {stage} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates} "
            f"WHERE t.{hash_col} IS DISTINCT FROM EXCLUDED.{hash_col} "
            f"RETURNING {created_sql}, t.{key_col}"
            f"{partition_upsert.RETURNING if partitioned else ''}",
            [*fixed_params, *created_params])
        returned = cursor.fetchall()
        if ordered is not None:
            ordered()
        if partitioned:  # a call already mirrored under another start or tier
            returned = partition_upsert.fold_moved(cursor, table, rows, returned, run_keys)
    updated = {k for new, k in returned if not new}
    return (Counts(created=len(returned) - len(updated), updated=len(updated),
                   unchanged=len(rows) - len(returned)), [k for _, k in returned], updated)


def _copy_into(cursor: Any, stage: str, fields: list[models.Field], rows: list[Row]) -> None:
    """COPY the rows' `fields` into the staging table. Only JSON needs Django's adaptation;
    other values go to psycopg as they are, taken from each row in one C call (a loop over
    30 fields per row was a tenth of a page's COPY)."""
    names = [f.attname for f in fields]
    values_of = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    json_at = [(i, f) for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    copied = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with cursor.cursor.copy(f"COPY {stage} ({copied}) FROM STDIN") as copy:
        for row in rows:
            values = list(values_of(row))
            for i, f in json_at:
                values[i] = _json_text(values[i], f)
            copy.write_row(values)


def _store_records(environment: Environment, rows: list[Row]) -> None:
    """Each call's `raw` as its provider stores it (`sync.stored_record`), from its final
    record and columns (after `arrival`); its `payload_hash` stays the whole record's."""
    form = environment.spec.stored_form
    if not form:
        return
    for row in rows:
        raw = row.get("raw")
        record = raw.value if isinstance(raw, CanonicalJSON) else raw
        value, text = stored_text(record, row, form)
        if value is not record:
            row["raw"] = JSONText(value, text)


def _json_text(value: Any, field: models.Field) -> Any:
    if isinstance(value, CanonicalJSON | JSONText):
        return value.text
    return field.get_db_prep_save(value, connection)
