"""Turn an existing, unpartitioned `sync_call` into the partitioned one, and back (PostgreSQL).

Used by sync migration 0001_mirror_and_partitioned_calls (and its reverse) on the table
Django creates, as the old migration 0013_h28a did on mirrors of millions of calls;
docs/partitioning.md says how long that takes. Steps, in the caller's transaction (all or
nothing):

1. read what the old table carries besides its columns: every index (the listing indexes,
   the GIN and partial ones, and any added later), its foreign keys, the identity
   sequence's position;
2. create the partitioned table (same columns, defaults, checks and identity), with a month
   partition and its forever leaf for every month that holds calls, plus the months around
   today (`CALL_PARTITIONS_BEHIND` before, `CALL_PARTITIONS_AHEAD` after) and the two
   catch-alls, before 2000 and from 2100 (`sync.partitions.ddl.CATCH_ALLS`);
3. copy the calls a month at a time (no index exists yet: the rows go in at COPY speed);
4. drop the old table, give the new one its name, then build the primary key (id,
   started_at, retention_months), the natural key (environment, external_id, started_at,
   retention_months) and every index read in 1 — built once over the copied rows, which
   is several times faster than maintaining them row by row — and the foreign keys;
5. ANALYZE, so the first queries are planned on real statistics.

Index definitions are carried over as PostgreSQL prints them (`pg_get_indexdef`), so an
index added by a later branch travels too. A unique index other than the two keys cannot be
carried (partitioning needs the partition key in it): the conversion stops and says so.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.conf import settings
from django.utils import timezone

from sync.partitions import ddl as partitions

TABLE = partitions.TABLE
NATURAL_KEY = "call_natural_key"
KEY_COLUMNS = ("environment_id", "external_id")
PARTITION_COLUMNS = ("started_at", "retention_months")


class ConversionError(RuntimeError):
    """Something in the old table cannot be carried into the new one."""


def _columns(cursor) -> list[str]:
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                   "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [TABLE])
    return [name for (name,) in cursor.fetchall()]


def _indexes(cursor) -> list[tuple[str, str, bool]]:
    """(name, definition, is_unique) of every index of `sync_call` that is not a key."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, "
        "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass ORDER BY c.relname", [TABLE])
    return [(name, definition, unique) for name, definition, unique, constraint
            in cursor.fetchall() if not constraint]


def _foreign_keys(cursor) -> list[tuple[str, str]]:
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [TABLE])
    return list(cursor.fetchall())


def _months_with_calls(cursor, table: str) -> list[date]:
    """The UTC months holding calls: one index probe per month (skip scan on started_at)."""
    cursor.execute(f"""
        WITH RECURSIVE m(first) AS (
            SELECT date_trunc('month', min(started_at) AT TIME ZONE 'UTC') FROM {table}
            WHERE started_at >= '2000-01-01 00:00:00+00'
            UNION ALL
            SELECT (SELECT date_trunc('month', min(started_at) AT TIME ZONE 'UTC')
                    FROM {table}
                    WHERE started_at >= ((m.first + interval '1 month') AT TIME ZONE 'UTC'))
            FROM m WHERE m.first < '2099-12-01')
        SELECT first::date FROM m WHERE first IS NOT NULL""")
    return [first for (first,) in cursor.fetchall()]


def _keys(cursor, partitioned: bool) -> None:
    extra = PARTITION_COLUMNS if partitioned else ()
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY "
                   f"({', '.join(('id', *extra))})")
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {NATURAL_KEY} UNIQUE "
                   f"({', '.join((*KEY_COLUMNS, *extra))})")


def _swap(cursor, new: str, indexes, foreign_keys, *, partitioned: bool) -> None:
    """Drop the old table, name the new one `sync_call`, build its keys, indexes, FKs."""
    cursor.execute(f"DROP TABLE {TABLE}")
    cursor.execute(f"ALTER TABLE {new} RENAME TO {TABLE}")
    cursor.execute(f"ALTER SEQUENCE IF EXISTS {new}_id_seq RENAME TO {TABLE}_id_seq")
    _keys(cursor, partitioned)
    for _name, definition, _unique in indexes:
        # A partitioned table's index prints as "ON ONLY": built whole here, either way.
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                   f"COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)", [TABLE])
    cursor.execute(f"ANALYZE {TABLE}")


def to_partitioned(cursor, progress: Callable[[str], None] | None = None) -> int:
    """Convert the plain `sync_call` in place; returns the calls copied."""
    indexes, foreign_keys = _indexes(cursor), _foreign_keys(cursor)
    unique = [name for name, _d, is_unique in indexes if is_unique]
    if unique:
        raise ConversionError(f"unique indexes without the partition key: {unique}")
    columns = ", ".join(_columns(cursor))
    new = f"{TABLE}_partitioned"
    cursor.execute(f"DROP TABLE IF EXISTS {new}")
    cursor.execute(f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING "
                   f"CONSTRAINTS INCLUDING IDENTITY) PARTITION BY RANGE (started_at)")
    this = partitions.month_of(timezone.now())
    around = {partitions.add_months(this, n) for n in
              range(-settings.CALL_PARTITIONS_BEHIND, settings.CALL_PARTITIONS_AHEAD + 1)}
    with_calls = _months_with_calls(cursor, TABLE)
    partitions.create_catch_alls(new)
    cursor.execute(f"SELECT DISTINCT retention_months FROM {TABLE}")
    tiers = {0} | {tier for (tier,) in cursor.fetchall()}
    for month in sorted(around | set(with_calls)):
        parent = partitions.month_table(month)
        cursor.execute(f"CREATE TABLE {parent} PARTITION OF {new} FOR VALUES "
                       f"{partitions.month_bounds_sql(month)} PARTITION BY LIST (retention_months)")
        for tier in sorted(tiers if month in with_calls else {0}):
            cursor.execute(f"CREATE TABLE {partitions.leaf_table(month, tier)} PARTITION OF "
                           f"{parent} FOR VALUES IN ({int(tier)})")
    # Calls outside 2000–2099 (never written by the sync) go to the catch-alls.
    cursor.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {TABLE} "
                   f"WHERE started_at < '2000-01-01 00:00:00+00' "
                   f"OR started_at >= '2100-01-01 00:00:00+00'")
    copied = cursor.rowcount
    for month in with_calls:
        cursor.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {TABLE} "
                       f"WHERE started_at >= %s AND started_at < %s",
                       [partitions._instant(month),
                        partitions._instant(partitions.add_months(month, 1))])
        copied += cursor.rowcount
        if progress:
            progress(f"{month:%Y-%m}: {cursor.rowcount} calls")
    _swap(cursor, new, indexes, foreign_keys, partitioned=True)
    return copied


def to_plain(cursor) -> int:
    """The reverse: one plain table again (keys on (id) and (environment, external_id))."""
    indexes, foreign_keys = _indexes(cursor), _foreign_keys(cursor)
    columns = ", ".join(_columns(cursor))
    new = f"{TABLE}_plain"
    cursor.execute(f"DROP TABLE IF EXISTS {new}")
    cursor.execute(f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING "
                   f"CONSTRAINTS INCLUDING IDENTITY)")
    cursor.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {TABLE}")
    copied = cursor.rowcount
    _swap(cursor, new, indexes, foreign_keys, partitioned=False)
    return copied
