"""The window a rule judges, and the one it compares with, from a clock and a timezone.

- `1h`, `24h`: rolling, ending at `end` (the evaluation time, or the edge of the mirror when
  that is earlier: see `evaluate`); read from indexed calls.
- `day`: the last complete local day; `7d`: the last seven complete local days; read from
  the daily rollups (and callback days).
- Comparison: `previous` is the window of equal length just before; `week_ago` the same
  window seven days earlier.
"""
from __future__ import annotations

import dataclasses
import zoneinfo
from datetime import date, datetime, time, timedelta

from reports.alerts.models import CompareTo, Window

ROLLING = {Window.HOUR: timedelta(hours=1), Window.DAY_ROLLING: timedelta(hours=24)}
DAYS = {Window.DAY: 1, Window.WEEK: 7}


@dataclasses.dataclass(frozen=True)
class Span:
    """[start, end) in UTC; for daily windows also the local days it covers (inclusive)."""

    start: datetime
    end: datetime
    first_day: date | None = None
    last_day: date | None = None

    def shifted(self, delta: timedelta) -> Span:
        if self.first_day is None:
            return Span(self.start - delta, self.end - delta)
        days = timedelta(days=delta.days)
        return _days(self.first_day - days, self.last_day - days, self.start.tzinfo)

    def label(self) -> str:
        if self.first_day is None:
            return f"{self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} UTC"
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day}–{self.last_day}"


def _days(first: date, last: date, tz) -> Span:
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    return Span(start, end, first, last)


def window_span(window: str, end: datetime, tz: zoneinfo.ZoneInfo) -> Span:
    """The window ending at `end` (rolling) or before `end`'s local day (daily)."""
    if window in ROLLING:
        return Span(end - ROLLING[window], end)
    today = end.astimezone(tz).date()
    return _days(today - timedelta(days=DAYS[window]), today - timedelta(days=1), tz)


def comparison_span(span: Span, window: str, compare_to: str) -> Span:
    if compare_to == CompareTo.WEEK_AGO:
        return span.shifted(timedelta(days=7))
    if window in ROLLING:
        return span.shifted(ROLLING[window])
    return span.shifted(timedelta(days=DAYS[window]))
