"""The sync's merge of calls into a partitioned `sync_call` (PostgreSQL), and calls whose start
moved (both databases).

Partitioning puts the partition key in every unique key: the database can only promise one
row per (environment, external_id, started_at, retention_months). The sync keeps the
promise that matters — ONE row per (environment, external_id) — itself:

- the merge's conflict target is the database's key (`prepare` gives the extra fields; each
  row carries its organisation's current retention tier, and its month's partition is made
  sure of first);
- a row the merge *created* may be a call the mirror already holds under another start or
  tier (the upstream moved the call's start, or the organisation is changing tier): those
  few are found by their (environment, external_id), the older row takes the new values
  (PostgreSQL moves it to its new partition: the one place besides `sync.partitions.retention` where
  a call row moves) and keeps its id, and the duplicate goes (`fold_moved`). The old day's
  rollups are recomputed in the same transaction, so no report counts the call twice.

Only created rows are checked, so an incremental sync (mostly unchanged or updated rows) pays
nothing; a back-fill of an environment that already holds calls pays one index probe per new
call and month of the environment's history (never the months of other environments'
history). A first back-fill (no calls before the run) probes only the created rows whose id
the run itself merged before (`RunKeys`): that probe was a quarter of its database time.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from rbloom import Bloom

from portal.models import Environment, Organization
from sync.partitions import ddl as partitions

PARTITION_FIELDS = ("started_at", "retention_months")
# The start comes back as text: it is only ever sent back (`fold_moved`), and Django's loader
# of timestamps parses each in Python (a fortieth of a back-fill's Python time).
RETURNING = ", t.id, t.started_at::text, t.retention_months"


def _is_call(model: type[models.Model]) -> bool:
    return model._meta.label == "sync.Call"


def prepare(model: type[models.Model], environment: Environment, rows: list[dict]
            ) -> list[str]:
    """Before a merge: for calls into a partitioned table, set each row's retention tier
    (read now: a tier changed during a long back-fill applies to its next batch), make sure
    their partitions exist and return the fields the conflict target needs besides
    (environment, key). Anything else: []."""
    if not _is_call(model):
        return []
    tier = retention_tier(environment)
    for row in rows:
        row["retention_months"] = tier
    partitions.ensure_for_rows(rows)
    return list(PARTITION_FIELDS)


def needs_partitions(model: type[models.Model], environment: Environment, rows: list[dict]
                     ) -> bool:
    """Whether merging these rows would first create a partition (`prepare`)."""
    if not _is_call(model):
        return False
    tier = retention_tier(environment)
    return partitions.missing_for_rows(rows, tier)


def retention_tier(environment: Environment) -> int:
    """The organisation's retention tier, read now (it may change during a long run)."""
    return Organization.objects.filter(pk=environment.organization_id).values_list(
        "call_retention_months", flat=True).first() or 0


def created_test(rows: list[dict], constants: dict[str, Any] | None = None
                 ) -> tuple[str, list]:
    """The RETURNING expression that is true for rows the merge created, and its parameter.

    A partitioned table cannot return `xmax` (PostgreSQL: "cannot retrieve a system column
    in this context"). Every row of one merge carries the same `first_seen_at` (the model
    default, taken once per merge) and the merge never updates it, so a returned row holding
    exactly that instant is one this merge inserted (`constants`: the merge's constant
    fields, where `first_seen_at` is when no row sets it).
    """
    if constants and "first_seen_at" in constants:
        return "(t.first_seen_at = %s)", [constants["first_seen_at"]]
    seen = {row["first_seen_at"] for row in rows}
    if len(seen) != 1:
        raise ValueError("a partitioned merge needs one first_seen_at for all its rows")
    return "(t.first_seen_at = %s)", [seen.pop()]


class RunKeys:
    """The call ids one sync run has merged, and whether its environment held calls before
    the run: which created rows may have a twin (`fold_moved`).

    A created row has a twin only if its call was stored before under another start or tier:
    before this run, or earlier in it. An environment without calls before the run (a first
    back-fill) can only have the second kind, and the ids the run merged are remembered here,
    in Bloom filters (about 1.8 MB per million ids; a false positive costs one probe, never a
    miss). Every call write of the run shares one (`RunContext.call_keys`); syncs of one
    environment never overlap (`sync.locks`), so no other writer adds calls meanwhile.
    """

    CAPACITY = 1_000_000
    ERROR_RATE = 0.001

    def __init__(self) -> None:
        self.history: bool | None = None  # read before the run's first merge
        self._filters: list[Bloom] = []
        self._room = 0

    def before_merge(self, cursor, table: str, environment_id: int) -> None:
        if self.history is None:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE environment_id = %s)",
                           [environment_id])
            self.history = bool(cursor.fetchone()[0])

    def suspects(self, keys: list[Any]) -> set[Any]:
        """Of these created ids, those that may have a twin; then remember them all."""
        if self.history is not False:
            return set(keys)
        found = {k for k in keys if any(k in bloom for bloom in self._filters)}
        for k in keys:
            if self._room == 0:
                self._filters.append(Bloom(self.CAPACITY, self.ERROR_RATE))
                self._room = self.CAPACITY
            self._filters[-1].add(k)
            self._room -= 1
        return found


def fold_moved(cursor, table: str, rows: list[dict], returned: list[tuple],
               run_keys: RunKeys | None = None) -> list[tuple[bool, Any]]:
    """After a merge whose RETURNING was `(created, key) + RETURNING`: fold every created row
    into an older row of the same call, if there is one. Returns (created, key) per row, a
    folded row counting as updated. `run_keys`: the run's ids, which narrow the created rows
    worth a probe (None: probe them all)."""
    created = [(rid, key, start, tier) for new, key, rid, start, tier in returned if new]
    if run_keys is not None and created:
        suspects = run_keys.suspects([c[1] for c in created])
        created = [c for c in created if c[1] in suspects]
    if not created:
        return [(new, key) for new, key, *_ in returned]
    environment_id = rows[0]["environment_id"]
    # Only the months between the environment's first and last call can hold a twin: the
    # bounds (two index probes per month at most) let the planner leave every other month
    # out, so an environment with a few months of history pays for those months only.
    cursor.execute(f"SELECT min(started_at), max(started_at) FROM {table} "
                   f"WHERE environment_id = %s", [environment_id])
    low, high = cursor.fetchone()
    # One index scan per month with the batch's ids as an array (ScalarArrayOp), answered
    # from the natural key's index alone: about half the time of a join probing every month
    # once per row, and a tenth of its planning.
    cursor.execute(
        f"SELECT o.external_id, o.id, o.started_at, o.retention_months FROM {table} o "
        f"WHERE o.environment_id = %s AND o.external_id = ANY(%s::text[]) "
        f"AND o.started_at >= %s AND o.started_at <= %s ORDER BY o.id",
        [environment_id, [c[1] for c in created], low, high])
    new_of = {key: (rid, start, tier) for rid, key, start, tier in created}
    twins = [(*new_of[key], old_id, old_start, old_tier)
             for key, old_id, old_start, old_tier in cursor.fetchall()
             if new_of[key][0] != old_id]
    twins.sort(key=lambda twin: (twin[0], twin[3]))
    if not twins:
        return [(new, key) for new, key, *_ in returned]
    columns = [f.column for f in _call_fields()]
    folded: set[int] = set()
    old_starts: list[datetime] = []
    for new_id, new_start, new_tier, old_id, old_start, old_tier in twins:
        old_starts.append(old_start)
        if new_id in folded:
            # A second older row of the same call (never made by this code): it goes too.
            cursor.execute(f"DELETE FROM {table} WHERE id = %s AND started_at = %s "
                           f"AND retention_months = %s", [old_id, old_start, old_tier])
            continue
        folded.add(new_id)
        assignments = ", ".join(f"{c} = gone.{c}" for c in columns if c != "first_seen_at")
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table} WHERE id = %s AND started_at = %s "
            f"AND retention_months = %s RETURNING *) "
            f"UPDATE {table} o SET {assignments} FROM gone "
            f"WHERE o.id = %s AND o.started_at = %s AND o.retention_months = %s",
            [new_id, new_start, new_tier, old_id, old_start, old_tier])
    refresh_old_days(Environment.objects.select_related("organization").get(pk=environment_id),
                     old_starts)
    return [(new and rid not in folded, key) for new, key, rid, *_ in returned]


def _call_fields() -> list[models.Field]:
    from sync.models import Call

    return [f for f in Call._meta.concrete_fields if not f.primary_key]


def refresh_old_days(environment: Environment, old_starts: list[datetime]) -> None:
    """Recompute the rollups of the local days calls moved away from."""
    if not old_starts:
        return
    from sync.write.rollups import local_days_of, refresh_rollups

    refresh_rollups(environment, local_days_of(old_starts, environment.organization.tzinfo))
