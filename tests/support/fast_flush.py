"""Transactional tests end with a flush of every table; on PostgreSQL Django's flush is one
`TRUNCATE` of all of them, which makes a new file for each of the ~100 relations (tables,
partitions, indexes, TOAST) and costs seconds on a busy machine (5.4 s against 0.45 s for
the same tables emptied with `DELETE`, measured at load 13). A test leaves a few rows, so
`DELETE FROM` each table, in the flush's one transaction, empties them far sooner.

Order does not matter: every foreign key is DEFERRABLE INITIALLY DEFERRED (Django makes
them so; `SET CONSTRAINTS ALL DEFERRED` says it again) and every table is emptied before
the commit checks them. A flush that must reset sequences or cascade into tables it does
not list (`available_apps`) keeps Django's TRUNCATE.

The content types and permissions are what the migrations' `post_migrate` writes, the same
rows every time: emptied, the flush's `post_migrate` wrote them all again after each
transactional test (0.4–0.9 s of its ~1 s teardown at load 6, more than the deletes). They
are kept, and written again only when a test changed their number (then emptied first, as
before).

`TRUNCATE` also forgot the tables' planner statistics (`reltuples` -1); `DELETE` keeps them,
and a later test's sync then planned on statistics of rows long gone: a month's leaf
"holding" thousands of rows makes its few new ones too few for `sync.partitions.analyze` to
sample it again, and the staged calls' next contacts (`sync.outcomes.settle_staged`) were
planned as a walk of the month by start time (15–21 s of the server's CPU for a statement
that takes 0.1 s on fresh statistics). The flush analyses again the tables whose statistics
count `MANY` rows or more: only those a test filled (a few per run), while the DELETE's dead
rows make them count none.
"""
from __future__ import annotations

from django.core.management.commands import flush
from django.db import connections
from django.db.backends.postgresql.operations import DatabaseOperations

_truncate = DatabaseOperations.sql_flush
_emit_post_migrate = flush.emit_post_migrate_signal
# Filled by post_migrate; the same after every run of it.
KEPT = ("django_content_type", "auth_permission")
# A table whose statistics count this many rows has them taken again by the flush.
MANY = 1000
COUNTS = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in KEPT)
# The planner statistics of the tables emptied that counted many rows, taken again (in the
# flush's transaction its deletes are dead rows: `reltuples` 0).
FORGET_EMPTIED = f"""DO $$ DECLARE t regclass; BEGIN
  FOR t IN SELECT c.oid FROM pg_class c WHERE c.relkind = 'r' AND c.reltuples >= {MANY}
             AND c.relnamespace = current_schema()::regnamespace
             AND c.relname <> ALL (ARRAY{list(KEPT)}) LOOP
    EXECUTE format('ANALYZE %s', t);
  END LOOP; END $$;"""
# Per database alias: the kept tables' row counts once post_migrate last filled them.
_written: dict[str, tuple[int, ...]] = {}


def _sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or allow_cascade or not tables:
        return _truncate(self, style, tables, reset_sequences=reset_sequences,
                         allow_cascade=allow_cascade)
    return ["SET CONSTRAINTS ALL DEFERRED;", *(
        f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
        for table in tables if table not in KEPT), FORGET_EMPTIED]


def _kept_counts(db: str) -> tuple[int, ...]:
    with connections[db].cursor() as cursor:
        cursor.execute(COUNTS)
        return tuple(cursor.fetchone())


def _post_migrate_unless_kept(verbosity, interactive, db, **kwargs) -> None:
    """post_migrate, skipped when the kept tables hold what it wrote last time; when they do
    not (a truncating flush, a test that added or removed one), they are emptied and written
    again."""
    if _written.get(db) == _kept_counts(db):
        return
    with connections[db].cursor() as cursor:
        for table in reversed(KEPT):  # permissions name their content type
            cursor.execute(f"DELETE FROM {table}")
    _emit_post_migrate(verbosity, interactive, db, **kwargs)
    _written[db] = _kept_counts(db)


def install() -> None:
    DatabaseOperations.sql_flush = _sql_flush
    flush.emit_post_migrate_signal = _post_migrate_unless_kept
