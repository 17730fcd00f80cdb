"""Right after a back-fill the planner knows the new data: the sync
analyses the month partitions it filled (PostgreSQL), so their statistics exist before
autovacuum comes; an incremental run analyses nothing, nor does a back-fill whose rows are too
few to move a month's statistics (autovacuum's own measure). It also merges the search index's
pending entries in those months (`sync.partitions.pending`), so no search reads them one by
one meanwhile."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection

from sync.engine import sync_environment
from sync.models import Call
from sync.partitions import ddl
from tests.support.sync_support import point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)


def _statistics(table: str) -> tuple[object, float]:
    """(last manual ANALYZE, the planner's row estimate) of one table."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT s.last_analyze, c.reltuples FROM pg_class c JOIN "
                       "pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = %s", [table])
        return cursor.fetchone()


def _never_analysed(tables: list[str]) -> None:
    """Start the tables from "never analysed". ANALYZE writes its figures in place, outside
    the transaction, so a test earlier on this worker whose back-fill was rolled back can leave
    a month "analysed with 4,000 rows" that holds none (CI saw it: the February leaf was then
    not analysed). TRUNCATE resets them (`reltuples` -1); the test is transactional, its
    tables are emptied after it anyway."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if cursor.fetchone()[0]:
                cursor.execute(f'TRUNCATE "{table}"')


# A back-fill of the 12 days to 4 March crosses 1 March.
TWO_MONTHS = (date(2026, 2, 1), date(2026, 3, 1))


def _two_months_never_analysed() -> list[str]:
    """The call tables of `TWO_MONTHS`, never analysed (`_never_analysed`)."""
    tables = [ddl.leaf_table(m, 0) for m in TWO_MONTHS]
    _never_analysed(tables)
    return tables


def test_a_backfill_leaves_planner_statistics_for_the_months_it_filled(org_a):
    months, tables = TWO_MONTHS, _two_months_never_analysed()
    config = small_config(days=12, calls_per_day=30, end_date=date(2026, 3, 4))
    with served(config) as (sim, server):
        env = point_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed
        # Each month settled once read, February while March was being written (on a
        # connection of its own: `backfilled.Settler`), so one note per month.
        assert sorted(set(outcome.runs[1].details["analyzed"])) == sorted(set(tables))
        for month, table in zip(months, tables, strict=True):
            analyzed, estimate = _statistics(table)
            assert analyzed is not None, table
            start = datetime.combine(month, time.min, UTC)
            end = datetime.combine(ddl.add_months(month, 1), time.min, UTC)
            mirrored = Call.objects.filter(environment=env, started_at__gte=start,
                                           started_at__lt=end).count()
            assert mirrored > 0 and estimate == mirrored, (table, estimate, mirrored)

        before = _statistics(tables[-1])[0]
        sim.advance(timedelta(hours=1))
        again = sync_environment(env, now=sim.now)
        assert not again.failed and "analyzed" not in again.runs[1].details
        assert _statistics(tables[-1])[0] == before

    # A small environment's back-fill into the month the first one filled: its few rows are
    # below autovacuum's measure for a leaf of ~120 (50 + 10 %), so the month shared by every
    # tenant is not sampled again for it.
    small = small_config(days=2, calls_per_day=3, end_date=date(2026, 3, 4))
    with served(small) as (sim, server):
        other = point_env(org_a, sim, server, name="Small")
        outcome = sync_environment(other, now=sim.now)
        assert not outcome.failed and 0 < Call.objects.filter(environment=other).count() < 20
        assert "analyzed" not in outcome.runs[1].details
        assert _statistics(tables[-1])[0] == before


def test_a_month_without_statistics_gets_them_from_its_first_batch(org_a, settings):
    """The planner plans the back-fill's own statements of the next batches (the callback
    links' probes by number) on them: without column statistics it walked the month by start
    time for each probe, and a day of 100,000 calls took 480 s instead of 15."""
    settings.SYNC_BATCH_ROWS = 40
    table = ddl.leaf_table(date(2026, 3, 1), 0)
    _never_analysed([table])
    config = small_config(days=3, calls_per_day=60, end_date=date(2026, 3, 4))  # March only
    with served(config) as (sim, server):
        env = point_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed and Call.objects.filter(environment=env).count() > 120
        # From the month's first batch (while the rest is written), and settled after the last.
        assert outcome.runs[1].details["analyzed"] == [table, table]


def _environments_known(table: str) -> set[int]:
    """The environments the leaf's statistics list (most common values)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT most_common_vals::text::int[] FROM pg_stats WHERE tablename = %s "
                       "AND attname = 'environment_id'", [table])
        row = cursor.fetchone()
        return set(row[0] or []) if row else set()


def test_a_month_whose_statistics_know_only_other_environments_is_analysed_again(org_a,
                                                                                  settings):
    """Statistics taken before this environment wrote there say its rows are nearly none, and
    its back-fill's next statements are planned that way: the leaf is analysed again from the
    first batch that writes materially there (autovacuum's measure), not only once it is
    settled."""
    settings.SYNC_BATCH_ROWS = 80
    table = ddl.leaf_table(date(2026, 3, 1), 0)
    _never_analysed([table])
    first = small_config(days=3, calls_per_day=20, end_date=date(2026, 3, 4))  # March only
    with served(first) as (sim, server):
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
    assert _environments_known(table) == {env.pk}
    second = small_config(days=3, calls_per_day=60, end_date=date(2026, 3, 4))
    with served(second) as (sim, server):
        other = point_env(org_a, sim, server, name="Second")
        outcome = sync_environment(other, now=sim.now)
        assert not outcome.failed and Call.objects.filter(environment=other).count() > 120
        # Its first batch (80 rows, above 50 + 10 % of the ~60 the statistics counted), then
        # settled after the last.
        assert outcome.runs[1].details["analyzed"] == [table, table]
    assert other.pk in _environments_known(table)


def _sampled(table: str) -> set[str]:
    """The columns of `table` ANALYZE samples (statistics target not 0)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND "
                       "attnum > 0 AND NOT attisdropped AND attstattarget IS DISTINCT FROM 0",
                       [table])
        return {name for (name,) in cursor.fetchall()}


def test_the_statistics_leave_out_the_columns_no_query_reads(org_a):
    """ANALYZE of a filled month samples neither the stored records nor their hashes nor the
    numbers as written for people (`ddl.UNSAMPLED`): in every leaf the migration found and in
    one the sync makes later; what the reports and the search filter by keeps its statistics."""
    made = ddl.ensure([(date(2026, 5, 1), 12)])  # a tier no organisation here keeps
    assert made == [(date(2026, 5, 1), 12)]
    read = {"status", "started_at", "agent_external_id", "direction", "sid", "external_id",
            "to_number", "from_number", "duration", "environment_id"}
    for table in (ddl.leaf_table(date(2026, 3, 1), 0), ddl.leaf_table(date(2026, 5, 1), 12),
                  f"{ddl.TABLE}_before", f"{ddl.TABLE}_after"):
        sampled = _sampled(table)
        assert read <= sampled and not sampled & set(ddl.UNSAMPLED), table

    table = ddl.leaf_table(date(2026, 3, 1), 0)
    _never_analysed([table])
    config = small_config(days=3, calls_per_day=60, end_date=date(2026, 3, 4))
    with served(config) as (sim, server):
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = %s", [table])
        analysed = {name for (name,) in cursor.fetchall()}
    assert read <= analysed and not analysed & set(ddl.UNSAMPLED)


def _pending_pages(index: str) -> int:
    """Pages of the GIN index's pending list, read by merging them (0: nothing was pending)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        return cursor.fetchone()[0]


def test_a_backfill_leaves_the_search_index_of_its_months_merged(org_a):
    config = small_config(days=12, calls_per_day=30, end_date=date(2026, 3, 4))
    months = (date(2026, 2, 1), date(2026, 3, 1))
    tables = [ddl.leaf_table(m, 0) for m in months]
    # Autovacuum's own analyse of a filled month merges its pending list too, and then the
    # sync has nothing left to merge or note (the newcomer's suite saw it once, for
    # February): the months are left to the sync alone while the test runs.
    ddl.ensure([(m, 0) for m in months])
    _autovacuum(set(tables), "false")
    try:
        _merged_by_the_backfill(org_a, config, tables)
    finally:
        _autovacuum(set(tables), "true")


def _autovacuum(tables: set[str], enabled: str) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = {enabled})')


def _merged_by_the_backfill(org_a, config, tables: list[str]) -> None:
    from sync.partitions.pending import LEAF_INDEXES

    with served(config) as (sim, server):
        env = point_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed
        with connection.cursor() as cursor:
            cursor.execute(LEAF_INDEXES, [tables])
            indexes = [name for (name,) in cursor.fetchall()]
        assert len(indexes) == len(set(tables))
        assert [_pending_pages(index) for index in indexes] == [0] * len(indexes)
        noted = outcome.runs[1].details["search index merged"]
        assert all(any(index in note for note in noted) for index in indexes), noted

        # The probe sees what a write leaves pending: calls written by an incremental run
        # stay in the list (4 MB before GIN merges it itself), and that run merges nothing.
        sim.advance(timedelta(hours=3))
        again = sync_environment(env, now=sim.now)
        assert not again.failed and again.runs[1].created > 0
        assert "search index merged" not in again.runs[1].details
        assert _pending_pages(indexes[-1]) > 0


def test_an_origins_backfill_settles_its_months_too(org_a):
    """Origins reads each agent's whole history every run: its first whole read is its
    back-fill, and only that one analyses and merges."""
    from tests.support.origins import origins_env

    config = small_config(days=12, calls_per_day=30, end_date=date(2026, 3, 4))
    with served(config) as (sim, server):
        env = origins_env(org_a, sim, server)
        first = sync_environment(env, now=sim.now)
        assert not first.failed
        calls = next(r for r in first.runs if r.stream == "calls")
        assert Call.objects.filter(environment=env).exists() and calls.created > 0
        assert "search index merged" in calls.details, calls.details
        sim.advance(timedelta(days=1))
        again = sync_environment(env, now=sim.now)
        calls = next(r for r in again.runs if r.stream == "calls")
        assert not again.failed and calls.created > 0  # a day's new calls, written
        assert "search index merged" not in calls.details
        assert "analyzed" not in calls.details


def test_a_database_user_not_owning_the_index_gets_a_note_not_a_failure(org_a):
    """Merging needs the index's owner; a deployment whose sync user is not keeps running."""
    from django.db import transaction

    from sync.partitions.pending import merge_pending

    tables = [ddl.leaf_table(date(2026, 3, 1), 0)]
    ddl.ensure([(date(2026, 3, 1), 0)])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DO $$ BEGIN CREATE ROLE switchboard_reader NOLOGIN; "
                       "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        cursor.execute("SET LOCAL ROLE switchboard_reader")
        merged, problem = merge_pending(tables)
        cursor.execute("RESET ROLE")
    assert merged == {} and "owner" in problem, problem


def test_a_vapi_backfill_gives_its_months_statistics_from_their_first_day(org_a):
    """Vapi's back-fill (newest day first) gives each month without statistics them once its
    first day is in, so the next days' resolution probes are planned on them, and settles
    every month it filled after its last day; the incremental run after it analyses
    nothing."""
    from sync.simulator import running_simulator
    from tests.support.vapi import vapi_config, vapi_env

    tables = _two_months_never_analysed()
    config = vapi_config(days=12, calls_per_day=30, end_date=date(2026, 3, 4))
    with running_simulator(config) as (sim, server):
        env = vapi_env(org_a, sim, server)
        first = sync_environment(env, now=sim.now)
        calls = next(r for r in first.runs if r.stream == "calls")
        assert not first.failed and calls.created > 0
        analyzed = calls.details["analyzed"]
        # March's from its first day (today's), before the settling names every month.
        assert analyzed[0] == tables[1] and len(analyzed) >= 2, analyzed
        assert set(", ".join(analyzed).split(", ")) >= set(tables), analyzed
        assert all(_statistics(table)[0] is not None for table in tables)
        assert "search index merged" in calls.details, calls.details
        sim.advance(timedelta(days=1))
        again = sync_environment(env, now=sim.now)
        calls = next(r for r in again.runs if r.stream == "calls")
        assert not again.failed and calls.created > 0
        assert "analyzed" not in calls.details and "search index merged" not in calls.details
