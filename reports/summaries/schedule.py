"""When a subscription runs next and which period a run reports, in its own timezone.

All arithmetic is on local calendar dates and wall-clock hours, converted to UTC only at the
end, so a weekly 08:00 summary stays at 08:00 local across DST changes. A wall-clock hour
that does not exist (spring forward) resolves to the instant just after the gap; an hour
that occurs twice (fall back) resolves to its first occurrence (zoneinfo's fold=0).
"""
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class Cadence(models.TextChoices):
    """How often a subscription runs (`ReportSubscription.cadence`)."""

    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


@dataclass(frozen=True)
class Period:
    """A reported range of local days, both ends included."""

    start: date
    end: date


def _local_instant(day: date, hour: int, tz: zoneinfo.ZoneInfo) -> datetime:
    """`hour`:00 local on `day` as UTC (fold=0: see the module docstring for DST edges)."""
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def _run_days(cadence: str, weekday: int, start: date):
    """Local dates on which the subscription runs, from `start` onwards."""
    day = start
    while True:
        if cadence == Cadence.DAILY:
            yield day
        elif cadence == Cadence.WEEKLY and day.weekday() == weekday:
            yield day
        elif cadence == Cadence.MONTHLY and day.day == 1:
            yield day
        day += timedelta(days=1)


def next_run_after(
    cadence: str, weekday: int, hour: int, tz: zoneinfo.ZoneInfo, after: datetime
) -> datetime:
    """The first scheduled instant (UTC) strictly after `after`."""
    # Start a day early: `after` in UTC may be the previous local date.
    start = after.astimezone(tz).date() - timedelta(days=1)
    for day in _run_days(cadence, weekday, start):
        candidate = _local_instant(day, hour, tz)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def next_run_for(subscription, after: datetime) -> datetime:
    """`next_run_after` with the subscription's own settings."""
    return next_run_after(
        subscription.cadence, subscription.weekday, subscription.hour, subscription.tzinfo, after
    )


def period_for_run(cadence: str, run_at: datetime, tz: zoneinfo.ZoneInfo) -> Period:
    """The last full day / Mon–Sun week / month that ended before the local date of `run_at`."""
    today = run_at.astimezone(tz).date()
    if cadence == Cadence.DAILY:
        day = today - timedelta(days=1)
        return Period(day, day)
    if cadence == Cadence.WEEKLY:
        monday = today - timedelta(days=today.weekday() + 7)
        return Period(monday, monday + timedelta(days=6))
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end)
