"""One real back-fill of the simulator, shared by the tests that only read (or then change)
what it mirrored: the first test that asks syncs for real; every later test gets the very
rows that sync wrote, copied back in a fraction of a second.

Why: a transactional test's database is emptied after it (TRUNCATE), so a module- or
session-scoped fixture cannot simply keep the synced rows, and syncing again for each test
cost seconds each (the callback funnel's tests back-filled the same data four times, plus
once for the links test). The rows the sync created are copied into a scratch schema of the
test database (`snapshot_<n>`, beside Django's tables, which a flush leaves alone) and
restored with `INSERT … SELECT` in one transaction (Django's foreign keys are deferred, so
order does not matter). The organisation is the test's own `org_a`: restored rows point at
it (every `organization_id` column is rewritten), so the cast built on `org_a` (alice, bob)
is a member of the restored environment's organisation as before.

Primary keys are restored as they were: the sequences only ever go up (transactional tests
do not reset them), so rows a test creates afterwards never collide.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count

from django.db import connection, transaction

from portal.models import Environment, Organization

_numbers = count(1)


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables() -> list[str]:
    """Django's tables (a partitioned table's parent stands for its partitions)."""
    return sorted(connection.introspection.django_table_names(only_existing=True,
                                                              include_views=False))


def _columns(cursor, table: str) -> list[str]:
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                   "current_schema() AND table_name = %s AND is_generated = 'NEVER' "
                   "ORDER BY ordinal_position", [table])
    return [row[0] for row in cursor.fetchall()]


def _pk_column(table: str) -> str | None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for info in constraints.values():
        if info["primary_key"] and len(info["columns"]) == 1:
            return info["columns"][0]
    return None


def _high_water(cursor, tables: list[str]) -> dict[str, object]:
    """Per table: the highest integer primary key now, 0 if empty; None if the table has
    rows but no single integer key (rows the build adds there could not be told apart)."""
    marks: dict[str, object] = {}
    for table in tables:
        pk = _pk_column(table)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quoted(table)})")
        if not cursor.fetchone()[0]:
            marks[table] = 0
            continue
        try:
            with transaction.atomic():
                cursor.execute(f"SELECT max({_quoted(pk)})::bigint FROM {_quoted(table)}")
                marks[table] = cursor.fetchone()[0] or 0
        except Exception:  # noqa: BLE001  (no single integer key)
            marks[table] = None
    return marks


@dataclass
class Snapshot:
    """The rows one build added, kept in schema `schema`; `environment_id` is the synced
    environment, `organization_id` the organisation they belonged to."""

    schema: str
    organization_id: int
    environment_id: int
    tables: dict[str, list[str]] = field(default_factory=dict)  # table -> columns

    @classmethod
    def take(cls, organization: Organization, environment: Environment,
             before: dict[str, object], before_counts: dict[str, int]) -> Snapshot:
        snap = cls(f"snapshot_{next(_numbers)}", organization.pk, environment.pk)
        untouched: list[str] = []
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {snap.schema} CASCADE")
            cursor.execute(f"CREATE SCHEMA {snap.schema}")
            for table, mark in before.items():
                if table == Organization._meta.db_table:
                    continue
                pk = _pk_column(table)
                added = "TRUE" if mark == 0 else f"{_quoted(pk)} > {int(mark)}" \
                    if mark is not None else None
                if added is None:  # rows, but no integer key: the build must not add any
                    untouched.append(table)
                    continue
                cursor.execute(f"CREATE TABLE {snap.schema}.{_quoted(table)} AS SELECT * FROM "
                               f"{_quoted(table)} WHERE {added}")
                if cursor.rowcount:
                    snap.tables[table] = _columns(cursor, table)
                else:
                    cursor.execute(f"DROP TABLE {snap.schema}.{_quoted(table)}")
            for table in untouched:
                cursor.execute(f"SELECT count(*) FROM {_quoted(table)}")
                assert cursor.fetchone()[0] == before_counts[table], \
                    f"the build added rows to {table}, which has no integer key to tell them by"
            snap._check_references(cursor)
        assert Environment._meta.db_table in snap.tables, "the build made no environment"
        return snap

    def _check_references(self, cursor) -> None:
        """Restored rows may point only at each other and at the organisation: a reference
        to a row the test made before the build (a user, say) would dangle next time."""
        for table in self.tables:
            for info in connection.introspection.get_constraints(cursor, table).values():
                target = info["foreign_key"]
                if not target or target[0] in self.tables \
                        or target[0] == Organization._meta.db_table:
                    continue
                column = _quoted(info["columns"][0])
                cursor.execute(f"SELECT count(*) FROM {self.schema}.{_quoted(table)} "
                               f"WHERE {column} IS NOT NULL")
                assert cursor.fetchone()[0] == 0, \
                    f"{table}.{info['columns'][0]} points at {target[0]}, made before the build"

    def restore(self, organization: Organization) -> Environment:
        """The snapshot's rows again, now belonging to `organization`."""
        with transaction.atomic(), connection.cursor() as cursor:
            for table, columns in self.tables.items():
                values = ", ".join("%s" if c == "organization_id" else _quoted(c)
                                   for c in columns)
                params = [organization.pk] * sum(c == "organization_id" for c in columns)
                cursor.execute(
                    f"INSERT INTO {_quoted(table)} ({', '.join(map(_quoted, columns))}) "
                    f"SELECT {values} FROM {self.schema}.{_quoted(table)}", params)
        return Environment.objects.get(pk=self.environment_id)

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


class SharedWorld:
    """Build once (`build(organization) -> environment`, for real, in the first test that
    asks), then restore the same rows for every later test."""

    def __init__(self, build: Callable[[Organization], Environment]) -> None:
        self.build = build
        self.snapshot: Snapshot | None = None

    def __call__(self, organization: Organization) -> Environment:
        if self.snapshot is not None:
            return self.snapshot.restore(organization)
        with connection.cursor() as cursor:
            before = _high_water(cursor, _tables())
            counts = {}
            for table in [t for t, mark in before.items() if mark is None]:
                cursor.execute(f"SELECT count(*) FROM {_quoted(table)}")
                counts[table] = cursor.fetchone()[0]
        env = self.build(organization)
        self.snapshot = Snapshot.take(organization, env, before, counts)
        return env

    def drop(self, blocker) -> None:
        """Drop the scratch schema (module or session teardown: `django_db_blocker`)."""
        if self.snapshot is not None:
            with blocker.unblock():
                self.snapshot.drop()
            self.snapshot = None


@contextmanager
def shared_world(build: Callable[[Organization], Environment], blocker) -> Iterator[SharedWorld]:
    world = SharedWorld(build)
    try:
        yield world
    finally:
        world.drop(blocker)
