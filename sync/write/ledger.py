"""Keep the completeness ledger (`CallDayLedger`) and answer what it says.

The Talkover calls stream records each cheap check (the upstream's `pagination.total` for a
day against the mirror's count) and each whole read of a day. Readers ask which days
disagree (being re-read) and when a day was last reconciled.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Max

from portal.models import Environment
from sync.models import Call
from sync.models.ledger import CallDayLedger
from sync.models.quarantine import RejectedRecord
from sync.stream_names import Stream


def lookback(today: date, days: int) -> list[date]:
    """An environment's lookback days, oldest first, today included: the days a run keeps
    equal to the upstream and the sync page shows the evidence of."""
    return [today - timedelta(days=days - i) for i in range(days + 1)]


def day_bounds(day: date, shift: timedelta = timedelta(0)) -> tuple[datetime, datetime]:
    """[start, end) of the upstream's day `day`: a UTC day, or, when the upstream's date
    filters count days `shift` ahead of UTC (negative: behind; Talkover does not say which
    zone), the moments its filter `date_from=date_to=day` covers."""
    start = datetime.combine(day, time.min, tzinfo=UTC) - shift
    return start, start + timedelta(days=1)


def held(env: Environment, day: date, shift: timedelta = timedelta(0)) -> int:
    """What the mirror accounts for of the upstream's day (see `day_bounds`): its calls and
    its quarantined records."""
    start, end = day_bounds(day, shift)
    return Call.objects.filter(environment=env, started_at__gte=start,
                               started_at__lt=end).count() + rejected_count(env, day)


def rejected_count(env: Environment, day: date) -> int:
    return RejectedRecord.objects.filter(environment=env, stream=Stream.CALLS, day=day).count()


def record(env: Environment, day: date, upstream: int, at: datetime, *,
           whole: bool, shift: timedelta = timedelta(0)) -> CallDayLedger:
    """Write the day's row after a check: `upstream`, the upstream's count taken at `at`
    (`whole`: every page of the day was just read); the row as written (its `reconciled_at`
    None when not `whole`, whatever the table keeps).

    Two counts and one upsert: `update_or_create` took four statements more (a savepoint, a
    locking read, the write, the release). A back-fill records every day it reads, on its
    writer thread, where each round trip also waits for the interpreter's lock behind the
    thread preparing the next pages: the ledger was half of that thread's statements."""
    start, end = day_bounds(day, shift)
    mirrored = Call.objects.filter(environment=env, started_at__gte=start,
                                   started_at__lt=end).count()
    row = CallDayLedger(environment=env, day=day, mirrored=mirrored,
                        rejected=rejected_count(env, day), upstream=upstream, checked_at=at,
                        reconciled_at=at if whole else None)
    fields = ["mirrored", "rejected", "upstream", "checked_at"]
    CallDayLedger.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["environment", "day"],
        update_fields=[*fields, "reconciled_at"] if whole else fields)
    return row


def rows(env: Environment, days: Iterable[date]) -> dict[date, CallDayLedger]:
    return {r.day: r for r in CallDayLedger.objects.filter(environment=env, day__in=list(days))}


def disagreeing(environments: Iterable[Environment], start: date, end: date
                ) -> dict[int, list[date]]:
    """UTC days start..end whose last count disagreed with the mirror, per environment."""
    out: dict[int, list[date]] = {}
    for row in CallDayLedger.objects.filter(environment__in=list(environments), day__gte=start,
                                            day__lte=end).order_by("day"):
        if not row.agrees:
            out.setdefault(row.environment_id, []).append(row.day)
    return out


def last_reconciled(environments: Iterable[Environment]) -> dict[int, datetime]:
    """Each environment's latest whole read of a day (environments never read are absent)."""
    return dict(CallDayLedger.objects.filter(environment__in=list(environments),
                                             reconciled_at__isnull=False)
                .values_list("environment_id").annotate(at=Max("reconciled_at")).order_by())
