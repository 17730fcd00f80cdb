"""Shared pieces of the report queries: periods, intervals, rates, deltas, JSON conversion."""
from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db.models import Aggregate, FloatField, QuerySet

from portal.models import Environment, Organization
from sync.coverage import Coverage


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`: the one
    continuous percentile of raw values (linear interpolation between the two ranks around
    it), computed by the database over the rows it reads, never by sorting them in Python."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("a percentile's fraction is within 0..1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class Interval(StrEnum):
    """Granularity of a report series; weeks start on Monday, all in the org's timezone."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclasses.dataclass(frozen=True)
class Delta:
    """A figure now and in the previous period; `change_pct` is None when previous is 0/None."""

    current: float | None
    previous: float | None
    change: float | None
    change_pct: float | None


def delta(current: float | None, previous: float | None) -> Delta:
    """Difference between two figures, as an absolute change and a percentage."""
    if current is None or previous is None:
        return Delta(current, previous, None, None)
    # Exact: every face rounds it only when it writes it (portal.formatting).
    change = current - previous
    pct = 100.0 * change / previous if previous else None
    return Delta(current, previous, change, pct)


class NoComparison(StrEnum):
    """Why a report gives no previous-period figures."""

    PREVIOUS_NOT_MIRRORED = "previous_not_mirrored"
    CURRENT_NOT_MIRRORED = "current_not_mirrored"
    ONLY_OPEN_DAYS = "only_open_days"


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Whether (and over which days) a report compares itself with the previous period.

    Like for like: open (partial) days at the end of the range are left out, and so are as
    many days at the end of the previous period, so both sides cover the same number of
    whole days. There is a comparison only when every compared day of both sides was fully
    mirrored; otherwise `available` is False, `reason` says why and `history_start` gives
    the first day from which the mirror is complete (None: not within the two periods).
    """

    available: bool
    reason: str | None
    history_start: date | None
    current_start: date
    current_end: date
    previous_start: date
    previous_end: date
    excluded_days: list[date]

    def side(self, day: date) -> str | None:
        """Which side compares `day`: "now", "then", or None (neither, or no comparison)."""
        if not self.available:
            return None
        if self.current_start <= day <= self.current_end:
            return "now"
        if self.previous_start <= day <= self.previous_end:
            return "then"
        return None


def compare_spans(coverage: Coverage, start: date, end: date) -> Comparison:
    """The comparison of start..end with the period before it, given the coverage of both
    periods together (previous start .. end)."""
    prev_start, _ = previous_period(start, end)
    open_days = [d for d in coverage.partial_days if d >= start]
    compared_end = min(open_days) - timedelta(days=1) if open_days else end
    excluded = days_in(compared_end + timedelta(days=1), end)
    length = (compared_end - start).days + 1
    prev_end = prev_start + timedelta(days=length - 1)
    history = coverage.history_start

    def verdict(reason: NoComparison | None) -> Comparison:
        if length <= 0:
            return Comparison(False, NoComparison.ONLY_OPEN_DAYS, history, start, end,
                              prev_start, prev_start, excluded)
        return Comparison(reason is None, reason, history, start, compared_end, prev_start,
                          prev_end, excluded)

    if length <= 0:
        return verdict(NoComparison.ONLY_OPEN_DAYS)
    current = coverage.clip(start, compared_end)
    if not current.complete:
        return verdict(NoComparison.CURRENT_NOT_MIRRORED)
    previous = coverage.clip(prev_start, prev_end)
    if not previous.complete:
        return verdict(NoComparison.PREVIOUS_NOT_MIRRORED)
    return verdict(None)


def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole, exact (rounded only when shown: `portal.formatting`), or None when there
    is nothing to divide by. Every rate and average of every report is this division."""
    return part / whole if whole and part is not None else None


def days_in(start: date, end: date) -> list[date]:
    """Every day from start to end, inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of equal length that ends the day before `start`."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def _interval(interval: Interval | str) -> Interval:
    """`interval` as an `Interval` (a string is checked): the enum's own call, a Python
    function, costs more than the day arithmetic, and a summary asks per day and per point."""
    return interval if isinstance(interval, Interval) else Interval(interval)


def period_start(day: date, interval: Interval | str) -> date:
    """First day of the day/week/month holding `day`."""
    interval = _interval(interval)
    if interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())
    if interval is Interval.MONTH:
        return day.replace(day=1)
    return day


def periods(start: date, end: date, interval: Interval | str) -> list[tuple[date, date]]:
    """Consecutive (first, last) day pairs covering start..end; the ends are clipped to it."""
    result: list[tuple[date, date]] = []
    interval = _interval(interval)
    current = start
    while current <= end:
        following = _next_period_start(period_start(current, interval), interval)
        last = min(end, following - timedelta(days=1))
        result.append((current, last))
        current = following
    return result


def _next_period_start(first: date, interval: Interval | str) -> date:
    interval = _interval(interval)
    if interval is Interval.WEEK:
        return first + timedelta(days=7)
    if interval is Interval.MONTH:
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first + timedelta(days=1)


def resolve_environments(
    environments: Iterable[Environment] | QuerySet[Environment],
) -> tuple[list[Environment], Organization]:
    """The environments as a list plus their one organisation (whose timezone defines days).

    Reports never mix organisations: their days would be cut in different timezones.
    """
    if isinstance(environments, QuerySet):
        envs = list(environments.select_related("organization"))
    else:
        envs = list(environments)
    if not envs:
        raise ValueError("a report needs at least one environment")
    org_ids = {env.organization_id for env in envs}
    if len(org_ids) > 1:
        raise ValueError("a report covers environments of a single organisation")
    return envs, envs[0].organization


def normalize_choice(value: str | Sequence[str] | None) -> list[str] | None:
    """A filter given as one value, several values or None, as a list (or None for 'all')."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [value]
    values = [v for v in value if v]
    return values or None


def as_jsonable(value: Any) -> Any:
    """Dataclasses, dates, datetimes, enums and zone infos as plain JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, zoneinfo.ZoneInfo):
        return value.key
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {str(k): as_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_jsonable(v) for v in value]
    return value
