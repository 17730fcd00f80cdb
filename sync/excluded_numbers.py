"""Numbers an organisation leaves out of resolution (`sync.models.ExcludedNumber`).

A number many calls share (a trunk, a test line, a withheld caller id with digits, the
organisation's own switchboard) makes each of its calls a repeat contact of the one before and
poisons the resolution figures. A call whose contact's digits (`sync.outcomes.contact_key`)
are on its organisation's list has no number to match: it counts as an answered call without
a number does (`sync.outcomes.PHONE`, `sync.kpi_calls.WITH_NUMBER`, the outcome rollup), and is
nobody's next contact (`sync.outcomes._contacts`, `_probe`).

THE FLAG. Each call keeps it (`Call.contact_excluded`), so every definition stays a condition
on the call's own columns and a rollup a count: the writer sets it on the staged rows before
the merge (`mark_staged`, reading the list in the statement: a list changed during a run is
read by its next batch), and a change of the list sets or clears it for the calls of the
numbers that changed (`resettle`). Test calls are nobody's contact and no report counts them:
they are left unflagged.

THE SUGGESTIONS. `suggestions` names the organisation's numbers with the most answered
contacts over the last `SUGGEST_DAYS` days when they stand out: more than
`SUGGEST_MIN_CALLS` calls and more than `SUGGEST_MIN_SHARE` of its answered calls (a person
calls a few times; a trunk or a test line takes a share of everything).

THE CHANGE. `change_list` writes the list; `resettle` (the task `sync.resettle_excluded_numbers`)
then, in one transaction, sets the flag of the calls of the numbers added or removed, gives
those calls their next contact anew (only calls of one number are each other's contacts, so
no other call's next contact moves), recounts the outcome rollup of their days and moves the
environments' data version (no cached report keeps the old figures). Both statements probe
the two digits indexes of the contact probes (sync migration 0001), keyed on the numbers.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, models, transaction
from django.utils import timezone

from portal.models import Environment, Organization
from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from sync.models import ExcludedNumber
from sync.models.outcomes import MAX_EXCLUDED_DIGITS
from sync.outcomes import (
    CONNECTED,
    HORIZON_DAYS,
    PHONE,
    contact_key,
    digits,
    refresh_outcome_days,
)


def digits_of(values: list[str]) -> list[str]:
    """Each value's digits, by the contact's own normalisation (`contact_key`, in the
    database: the digits a list holds are the digits the calls are matched by)."""
    if not values:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {digits('v')} FROM unnest(%s::text[]) "
                       "WITH ORDINALITY AS x(v, i) ORDER BY i", [values])
        return [found for (found,) in cursor.fetchall()]


def digits_problem(found: str) -> str | None:
    """Why these digits (`digits_of`) cannot be on a list, in English for the caller to word
    ("none", "too_many"); None when they can."""
    if not found:
        return "none"
    if len(found) > MAX_EXCLUDED_DIGITS:
        return "too_many"
    return None


def mark_staged(environment: Environment, stage: str) -> None:
    """Flag the staged calls (a write's rows, before its merge) whose contact's digits are on
    the organisation's list."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {stage} s SET contact_excluded = true FROM sync_excludednumber x
            WHERE x.organization_id = %s AND s.direction IN ('inbound', 'outbound')
              AND NOT s.is_testing AND x.digits = {contact_key('s')}""",
                       [environment.organization_id])


def change_list(organization: Organization, entries: dict[str, str]) -> list[str]:
    """Make the organisation's list these numbers (digits → label); the digits added or
    removed (labels alone change no call), for `resettle`."""
    current = {n.digits: n for n in ExcludedNumber.objects.for_organization(organization)}
    removed = sorted(set(current) - set(entries))
    added = sorted(set(entries) - set(current))
    with transaction.atomic():
        ExcludedNumber.objects.for_organization(organization).filter(
            digits__in=removed).delete()
        ExcludedNumber.objects.bulk_create([
            ExcludedNumber(organization=organization, digits=d, label=entries[d])
            for d in added])
        for kept, number in current.items():
            if kept in entries and number.label != entries[kept]:
                number.label = entries[kept]
                number.save(update_fields=["label"])
    return sorted(removed + added)


def apply_change(organization_id: int, numbers: list[str]) -> None:
    """Re-settle the calls of these digits after a change of the list (the settings page's,
    the admin's): queued as `sync.resettle_excluded_numbers`, else here, so the figures never
    disagree with the list."""
    if not numbers:
        return
    try:
        enqueue("sync.resettle_excluded_numbers", organization_id, numbers)
    except (QueueUnavailable, TaskNotAvailable):
        resettle(organization_id, numbers)


def _keyed() -> str:
    """The organisation's contacts whose digits are among `%(keys)s`, one probe of each
    digits index."""
    return " UNION ALL ".join(f"""
        SELECT p.id, p.started_at, p.environment_id, {digits(f'p.{column}')} AS k
        FROM sync_call p
        WHERE p.environment_id = ANY(%(envs)s) AND p.direction = '{direction}'
          AND NOT p.is_testing AND {digits(f'p.{column}')} = ANY(%(keys)s)"""
                              for direction, column in (("outbound", "to_number"),
                                                        ("inbound", "from_number")))


def resettle(organization_id: int, numbers: Collection[str]) -> int:
    """Apply a change of the organisation's list for these digits (see THE CHANGE); the
    calls whose flag or next contact changed."""
    keys = sorted(set(numbers))
    environments = list(Environment.objects.across_organizations().filter(
        organization_id=organization_id).select_related("organization"))
    if not keys or not environments:
        return 0
    params = {"envs": [e.pk for e in environments], "keys": keys, "org": organization_id}
    with transaction.atomic(), connection.cursor() as cursor:
        # Hash joins, as `sync.outcomes.settle_environments` says why.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(f"""
            WITH keyed AS ({_keyed()}),
            flags AS (
                SELECT keyed.id, keyed.started_at, x.digits IS NOT NULL AS excluded
                FROM keyed LEFT JOIN sync_excludednumber x
                  ON x.organization_id = %(org)s AND x.digits = keyed.k)
            UPDATE sync_call c SET contact_excluded = flags.excluded FROM flags
            WHERE c.id = flags.id AND c.started_at = flags.started_at
              AND c.contact_excluded <> flags.excluded
            RETURNING c.environment_id, c.started_at""", params)
        moved = cursor.fetchall()
        cursor.execute(f"""
            WITH keyed AS MATERIALIZED (
                SELECT k.*, c.contact_excluded FROM ({_keyed()}) k
                JOIN sync_call c ON c.id = k.id AND c.started_at = k.started_at),
            nexts AS (
                SELECT id, started_at, min(started_at) OVER (
                    PARTITION BY k ORDER BY started_at
                    RANGE BETWEEN '1 microsecond'::interval FOLLOWING
                              AND '{HORIZON_DAYS} days'::interval FOLLOWING) AS t
                FROM keyed WHERE NOT contact_excluded),
            own AS (
                SELECT keyed.id, keyed.started_at, nexts.t FROM keyed
                LEFT JOIN nexts ON nexts.id = keyed.id AND nexts.started_at = keyed.started_at)
            UPDATE sync_call c SET next_contact_at = own.t FROM own
            WHERE c.id = own.id AND c.started_at = own.started_at
              AND c.next_contact_at IS DISTINCT FROM own.t
            RETURNING c.environment_id, c.started_at""", params)
        moved += cursor.fetchall()
        cursor.execute("SET LOCAL enable_nestloop = on")
        _recount(environments, moved)
        Environment.objects.across_organizations().filter(
            organization_id=organization_id).update(data_version=models.F("data_version") + 1)
    return len({(env, start) for env, start in moved})


def _recount(environments: Iterable[Environment], moved: list[tuple[int, datetime]]) -> None:
    """The outcome rollup of the local days of the calls changed, recounted from the calls
    (the other rollups count no number to match)."""
    starts: dict[int, list[datetime]] = defaultdict(list)
    for environment_id, started_at in moved:
        starts[environment_id].append(started_at)
    for environment in environments:
        tz = environment.organization.tzinfo
        refresh_outcome_days(environment, {at.astimezone(tz).date()
                                           for at in starts.get(environment.pk, ())})


SUGGEST_DAYS = 30
SUGGEST_MIN_CALLS = 50
SUGGEST_MIN_SHARE = 0.01
SUGGEST_MOST = 5


@dataclass(frozen=True)
class Suggestion:
    """A number not on the list with many answered contacts: its digits, its answered calls
    over the last `SUGGEST_DAYS` days and their share of the organisation's."""

    digits: str
    calls: int
    share: float


def suggestions(organization: Organization, now: datetime | None = None) -> list[Suggestion]:
    """The numbers to suggest leaving out (see THE SUGGESTIONS), most calls first."""
    envs = list(Environment.objects.across_organizations().filter(
        organization=organization).values_list("pk", flat=True))
    if not envs:
        return []
    since = (now or timezone.now()) - timedelta(days=SUGGEST_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            WITH answered AS (
                SELECT CASE WHEN {PHONE} THEN {contact_key('c')} END AS k FROM sync_call c
                WHERE c.environment_id = ANY(%(envs)s) AND c.started_at >= %(since)s
                  AND NOT c.is_testing AND {CONNECTED}),
            total AS (SELECT count(*) AS n FROM answered)
            SELECT a.k, count(*), count(*)::float8 / total.n FROM answered a, total
            WHERE a.k IS NOT NULL GROUP BY a.k, total.n
            HAVING count(*) > %(calls)s AND count(*) > %(share)s * total.n
            ORDER BY count(*) DESC, a.k LIMIT %(most)s""",
                       {"envs": envs, "since": since, "calls": SUGGEST_MIN_CALLS,
                        "share": SUGGEST_MIN_SHARE, "most": SUGGEST_MOST})
        return [Suggestion(k, calls, share) for k, calls, share in cursor.fetchall()]
