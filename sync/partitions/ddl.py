"""Calls partitioned by month, each month by retention tier (PostgreSQL; docs/partitioning.md).

Why: one `sync_call` table made writing slower as it grew (a 5M-call table loaded at half
the rate of a 100k one, rollups took 30× longer) and could only shed old calls by DELETE,
which never catches up. Partitioned, each month's indexes stay the size of a month, and a
month that is no longer kept is dropped whole.

Layout (two levels, plain declarative partitioning, no extension):

    sync_call                      RANGE (started_at)          the table every query names
      sync_call_p202611            LIST (retention_months)     one per calendar month (UTC)
        sync_call_p202611_t0       leaf: organisations that keep calls forever
        sync_call_p202611_t12      leaf: organisations that keep 12 months …

Months are partitions from 2000 to 2099, the span the sync accepts (a record stamped outside
it is rejected, `sync.providers.validation`); two plain catch-all partitions,
`sync_call_before` (before 2000) and `sync_call_after` (2100 on), hold whatever else a hand
or a fixture stores, so such a row is kept rather than refused, and PostgreSQL can still read
the partitions in order. Retention never drops them.

A leaf exists for a (month, tier) only when something needs it: the forever tier for every
month, the tiers organisations use for the months ahead, and whatever the sync writes
(`ensure`). There is no DEFAULT partition: a default that holds rows (or merely exists
unpruned) stops PostgreSQL from reading months in order (ordered Append), which the
"newest calls of an environment" queries rely on, and creating a month then has to scan and
empty it. A call of a month without a partition is an error naming the table; the sync
creates the months it writes before writing them, so a back-fill years deep works.

New partitions are built detached and attached (SHARE UPDATE EXCLUSIVE on the parent:
readers and writers go on) under an advisory lock, so two workers never race to create one.
The sync migration partitions the table Django creates, so every database past `migrate`
holds the partitioned one: nothing here has a path for a plain table.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal.models import CallRetention, Organization

TABLE = "sync_call"
TIERS: tuple[int, ...] = tuple(int(v) for v in CallRetention.values)
LEAF = re.compile(r"^sync_call_p(\d{4})(\d{2})_t(\d+)$")
# pg_advisory_xact_lock key of partition creation: one creator at a time, everywhere.
CREATE_LOCK = 0x5B_CA11
# Months between these are partitions of their own; the rest are the catch-alls'.
FIRST_MONTH, END_MONTH = date(2000, 1, 1), date(2100, 1, 1)
CATCH_ALLS = {"before": ("MINVALUE", "'2000-01-01 00:00:00+00'"),
              "after": ("'2100-01-01 00:00:00+00'", "MAXVALUE")}
# Columns no query filters, joins, groups or sorts by: ANALYZE samples none of them
# (statistics target 0). Sorting a month's stored records and hashes for statistics nobody
# reads was two fifths of each ANALYZE a back-fill runs (`sync.partitions.analyze`): 23,666
# calls took 0.80 s, 0.45 s without them. A new partition does not inherit its parent's
# targets, so every leaf is given them when made (the sync migration gives the first ones).
UNSAMPLED = ("raw", "payload_hash", "to_formatted", "from_formatted")


def unsampled_sql(table: str, target: int = 0) -> str:
    """The ALTER TABLE giving `table` (a quoted name) no statistics on `UNSAMPLED` (`target`
    -1: the default again)."""
    return f"ALTER TABLE {table} " + ", ".join(
        f"ALTER COLUMN {column} SET STATISTICS {int(target)}" for column in UNSAMPLED)


def month_of(moment: datetime | date) -> date:
    """The first day of the UTC calendar month holding `moment` (partitions are UTC months)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def _partitioned_month(moment: datetime | date) -> date | None:
    """`month_of(moment)` if that month has (or gets) its own partition, else None: the
    catch-all partitions hold it."""
    try:
        month = month_of(moment)
    except OverflowError:  # an instant past year 9999 in UTC
        return None
    return month if FIRST_MONTH <= month < END_MONTH else None


def create_catch_alls(parent: str = TABLE) -> None:
    """The two plain partitions before 2000 and from 2100 on (`migrate` makes them)."""
    with connection.cursor() as cursor:
        for name, (low, high) in CATCH_ALLS.items():
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE}_{name} PARTITION OF {parent} "
                           f"FOR VALUES FROM ({low}) TO ({high})")
            cursor.execute(unsampled_sql(f"{TABLE}_{name}"))


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_table(month: date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def leaf_table(month: date, tier: int) -> str:
    return f"{month_table(month)}_t{int(tier)}"


def _instant(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def month_bounds_sql(month: date) -> str:
    """The month's `FROM (…) TO (…)` partition bound as literals: DDL takes no parameters
    when they are bound by the server (`DB_PREPARED_STATEMENTS`), and these are written
    from dates, never from input."""
    return f"FROM ('{_instant(month)}') TO ('{_instant(add_months(month, 1))}')"


def leaves() -> set[tuple[date, int]]:
    """(month, tier) of every leaf partition of `sync_call` (one catalog query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits m JOIN pg_inherits l ON l.inhparent = m.inhrelid "
            "JOIN pg_class c ON c.oid = l.inhrelid WHERE m.inhparent = to_regclass(%s)",
            [TABLE])
        names = [name for (name,) in cursor.fetchall()]
    found = set()
    for name in names:
        match = LEAF.match(name)
        if match:
            found.add((date(int(match[1]), int(match[2]), 1), int(match[3])))
    return found


def months() -> set[date]:
    """Every month partition of `sync_call`, with or without leaves."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                       "ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)", [TABLE])
        return {date(int(n[11:15]), int(n[15:17]), 1) for (n,) in cursor.fetchall()
                if re.match(r"^sync_call_p\d{6}$", n)}


def _create(month: date, tiers: Iterable[int], month_exists: bool) -> None:
    """Build the month's missing leaves detached, then attach them (and the month)."""
    q = connection.ops.quote_name
    parent = q(month_table(month))
    with connection.cursor() as cursor:
        if not month_exists:
            cursor.execute(f"CREATE TABLE {parent} (LIKE {TABLE} INCLUDING DEFAULTS "
                           f"INCLUDING CONSTRAINTS) PARTITION BY LIST (retention_months)")
        for tier in tiers:
            leaf = q(leaf_table(month, tier))
            cursor.execute(f"CREATE TABLE {leaf} (LIKE {TABLE} INCLUDING DEFAULTS "
                           f"INCLUDING CONSTRAINTS)")
            cursor.execute(unsampled_sql(leaf))
            cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {leaf} "
                           f"FOR VALUES IN ({int(tier)})")
        if not month_exists:
            cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {parent} FOR VALUES "
                           f"{month_bounds_sql(month)}")


def ensure(wanted: Iterable[tuple[date, int]]) -> list[tuple[date, int]]:
    """Make sure every (month, tier) leaf exists (months: first days); returns those created.

    Cheap when they exist (one catalog query). Creating takes a transaction-level advisory
    lock, so it is atomic with the caller's transaction and two workers never collide.
    Always creates the month's forever leaf with it, so plain writes of tier 0 never fail
    in a month that exists.
    """
    wanted = {(month, int(t)) for m, t in wanted
              if (month := _partitioned_month(m)) is not None}
    if not wanted:
        return []
    have = leaves()
    if wanted <= have:
        return []
    created = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CREATE_LOCK])
        have, existing_months = leaves(), months()
        by_month: dict[date, set[int]] = {}
        for month, tier in wanted - have:
            by_month.setdefault(month, set()).update({tier, 0})
        for month, tiers in sorted(by_month.items()):
            missing = sorted(t for t in tiers if (month, t) not in have)
            _create(month, missing, month in existing_months)
            created += [(month, t) for t in missing]
    return created


def tiers_in_use() -> set[int]:
    """The forever tier and every tier an organisation has chosen."""
    used = set(Organization.objects.values_list("call_retention_months", flat=True).distinct())
    return used | {0}


def ensure_ahead(now: datetime | None = None, *, ahead: int | None = None,
                 behind: int = 0) -> list[tuple[date, int]]:
    """The current month, `ahead` months after it (settings.CALL_PARTITIONS_AHEAD) and
    `behind` months before, in every tier in use. The daily maintenance calls it."""
    ahead = settings.CALL_PARTITIONS_AHEAD if ahead is None else ahead
    this = month_of(now or timezone.now())
    tiers = tiers_in_use()
    return ensure((add_months(this, n), t) for n in range(-behind, ahead + 1) for t in tiers)


def ensure_for_rows(rows: Iterable[dict]) -> None:
    """Make sure the leaves of these call rows (`started_at`, `retention_months`) exist."""
    ensure(_leaves_of(rows))


def missing_for_rows(rows: Iterable[dict], tier: int | None = None) -> bool:
    """Whether `ensure_for_rows` would create a leaf (one catalog query); `tier`: the rows'
    retention tier, whatever they hold."""
    wanted = {(month, t) for m, t in _leaves_of(rows, tier)
              if (month := _partitioned_month(m)) is not None}
    return bool(wanted) and not wanted <= leaves()


def _leaves_of(rows: Iterable[dict], tier: int | None = None) -> set[tuple[date, int]]:
    """(month, tier) of each row; `tier`, when given, instead of the rows' own."""
    return {(month_of(r["started_at"]),
             tier if tier is not None else r.get("retention_months") or 0) for r in rows}


def detach_and_drop(month: date, tier: int) -> None:
    """Detach one leaf and drop it: its calls are gone, a whole month at once."""
    q = connection.ops.quote_name
    leaf, parent = q(leaf_table(month, tier)), q(month_table(month))
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # Django's foreign keys are deferred: checks this transaction still owes would
            # forbid the DROP ("pending trigger events"); run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {leaf}")
        else:
            # Outside a transaction: readers and writers of other tiers of the month go on.
            cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {leaf} CONCURRENTLY")
        cursor.execute(f"DROP TABLE {leaf}")


def environments_in(month: date, tier: int) -> list[int]:
    """The environments with calls in one leaf: a skip scan over its environment index, so
    a month of millions of calls is read in one index probe per environment."""
    leaf = connection.ops.quote_name(leaf_table(month, tier))
    with connection.cursor() as cursor:
        cursor.execute(f"""
            WITH RECURSIVE e(id) AS (
                (SELECT environment_id FROM {leaf} ORDER BY environment_id LIMIT 1)
                UNION ALL
                SELECT (SELECT environment_id FROM {leaf} WHERE environment_id > e.id
                        ORDER BY environment_id LIMIT 1) FROM e WHERE e.id IS NOT NULL)
            SELECT id FROM e WHERE id IS NOT NULL""")
        return [pk for (pk,) in cursor.fetchall()]


def leaf_indexes(index: str) -> list[str]:
    """The indexes a table's index `index` consists of: its partitions' own indexes (the ones
    plans and `gin_clean_pending_list` name), or `index` itself on a plain table."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_partition_tree(%s::regclass) t "
                       "JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf", [index])
        return [name for (name,) in cursor.fetchall()]


def partition_count() -> tuple[int, int]:
    """(month partitions, leaf partitions): what the settings and docs call bounded."""
    return len(months()), len(leaves())
