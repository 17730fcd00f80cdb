"""Which hours of the week an anomaly rule on calls cannot judge alone, and which not at all.

A window is judged when it usually holds `min_calls` calls (`counts`): an hour usually
quieter is judged with the hours before it, as the end of a run of up to 6 hours; an hour
still under the minimum with its 5 hours before is not judged. The rule's page says which
hours those are, from the same usual levels the judgement reads (the last 6 weeks the mirror
holds, on the organisation's wall clock), grouped as "Monday–Friday 01:00–06:00".
"""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from reports.alerts.anomaly import scope_of
from reports.alerts.counts import LONGEST_RUN, Hour, usual
from reports.alerts.coverage import Mirrored
from reports.alerts.hourly import hourly_figures
from reports.alerts.models import AlertRule, Condition, Metric
from reports.alerts.seasonal import BASELINE_WEEKS, MIN_WEEKS

Slot = tuple[int, int]  # (weekday, hour)


@dataclasses.dataclass(frozen=True)
class QuietHours:
    minimum: int
    in_runs: list[str]  # "Saturday, Sunday 01:00–07:00": judged only with the hours before
    never: list[str]  # under the minimum even over 6 hours: not judged
    known: bool  # False: under 3 mirrored weeks, no usual level yet


def _levels(rule: AlertRule, env_ids: tuple[int, ...], mirrored: Mirrored,
            today: date) -> dict[Slot, float]:
    tz = rule.organization.tzinfo
    days = [today - timedelta(days=d) for d in range(1, 7 * BASELINE_WEEKS + 1)]
    found = hourly_figures(scope_of(rule, env_ids), days)
    levels = {}
    for day in days[:7]:
        for hour in range(24):
            past = []
            for k in range(BASELINE_WEEKS):
                at = Hour.at(day - timedelta(weeks=k), hour, tz)
                figures = found.get((at.day, hour))
                past.append((figures.calls if figures else 0)
                            if mirrored.covers(at.start, at.end) else None)
            level = usual(past)
            if level.weeks >= MIN_WEEKS:
                levels[(day.weekday(), hour)] = level.expected
    return levels


def _before(slot: Slot, back: int) -> Slot:
    index = (slot[0] * 24 + slot[1] - back) % (7 * 24)
    return divmod(index, 24)


def _ranges(hours: list[int]) -> str:
    spans, start = [], None
    for hour in range(25):
        inside = hour in hours
        if inside and start is None:
            start = hour
        elif not inside and start is not None:
            spans.append(f"{start:02d}:00–{hour % 24:02d}:00")
            start = None
    return ", ".join(spans)


def _grouped(slots: set[Slot]) -> list[str]:
    """Weekdays with the same hours together: "Monday, Tuesday 01:00–06:00"."""
    by_hours: dict[str, list[int]] = {}
    for weekday in range(7):
        hours = sorted(h for d, h in slots if d == weekday)
        if hours:
            by_hours.setdefault(_ranges(hours), []).append(weekday)
    return [_("%(days)s %(hours)s") % {"days": ", ".join(str(WEEKDAYS[d]) for d in days),
                                       "hours": hours}
            for hours, days in by_hours.items()]


def quiet_hours(rule: AlertRule, env_ids: tuple[int, ...], mirrored: Mirrored,
                today: date) -> QuietHours | None:
    """None for a rule that is not an anomaly on calls."""
    if rule.metric != Metric.CALLS or rule.condition != Condition.ANOMALY or not env_ids:
        return None
    levels = _levels(rule, env_ids, mirrored, today)
    in_runs, never = set(), set()
    for slot, level in levels.items():
        if level >= rule.min_calls:
            continue
        run = 0.0
        for back in range(LONGEST_RUN):
            run += levels.get(_before(slot, back), 0.0)
            if run >= rule.min_calls:
                in_runs.add(slot)
                break
        else:
            never.add(slot)
    return QuietHours(rule.min_calls, _grouped(in_runs), _grouped(never), bool(levels))
