"""The KPI report's day rollup (`sync.models.KpiDayRollup`), refreshed with the other rollups
(`sync.write.rollups.refresh_rollups`) and after a change of an agent's success threshold
(`sync.analysis.set_threshold`).

Its sums are the report's own (`sync.kpi_calls.kpi_sums`, over the conditions of
`KPI_CALLS`) and its peaks the report's statement over one environment, in frames of two
days (`sync.kpi_calls.framed_peak_rows`): a day counted here and the report over its calls
give the same figures. A day's peak counting calls in progress since the day before
(`peak`) changes with the day before's calls, so refreshing a day refreshes the next one
too.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models.functions import TruncDate

from portal.models import Environment
from sync.kpi_calls import framed_peak_rows, kpi_sums
from sync.models import Call, KpiDayRollup
from sync.write.copy_rows import insert_rows

Peaks = dict[str, tuple[int, int]]
FRAMES_PER_STATEMENT = 31


def _day_peaks(environment: Environment, days: list[date]) -> dict[date, tuple[Peaks, Peaks]]:
    """Per day of `days`: its peaks counting its own calls only, and counting the day
    before's too, per agent: (the environment's peak, the agent's). One statement per
    `FRAMES_PER_STATEMENT` frames (a month's calls twice, as the report's 90 days sort in its
    memory): in the frame
    starting on a day its own peaks, in the frame starting the day before its carried ones
    (`framed_peak_rows`)."""
    own: dict[date, Peaks] = {day: {} for day in days}
    carried: dict[date, Peaks] = {day: {} for day in days}
    firsts = sorted({d - timedelta(days=i) for d in days for i in (0, 1)})
    for i in range(0, len(firsts), FRAMES_PER_STATEMENT):
        for first, row_day, _env, agent, _vendor, every, of_agent, _of_vendor in (
                framed_peak_rows(environment, firsts[i:i + FRAMES_PER_STATEMENT])):
            kept = own if row_day == first else carried
            if row_day in kept:
                kept[row_day][agent] = (every, of_agent)
    return {day: (own[day], carried[day]) for day in days}


def refresh_kpi_days(environment: Environment, local_days: Iterable[date]) -> None:
    """Recount the KPI rollup of these local days, and of the day after each, from the
    calls (replace, not increment)."""
    days = sorted({d + timedelta(days=i) for d in local_days for i in (0, 1)})
    if not days:
        return
    tz = environment.organization.tzinfo
    rows: dict[tuple[date, str], KpiDayRollup] = {}
    for i in range(0, len(days), 31):
        part = days[i:i + 31]
        sums = (Call.objects.across_organizations().filter(
            environment=environment, is_testing=False,
            started_at__gte=datetime.combine(part[0], time.min, tzinfo=tz),
            started_at__lt=datetime.combine(part[-1] + timedelta(days=1), time.min, tzinfo=tz))
            .annotate(local_day=TruncDate("started_at", tzinfo=tz))
            .filter(local_day__in=part)
            .values("local_day", "agent_external_id")
            .annotate(**{f"n_{k}": v for k, v in kpi_sums().items()}).order_by())
        for values in sums:
            key = (values.pop("local_day"), values.pop("agent_external_id"))
            rows[key] = KpiDayRollup(
                environment=environment, day=key[0], agent_external_id=key[1],
                **{k[2:]: v or 0 for k, v in values.items()})
    for day, (own, carried) in _day_peaks(environment, days).items():
        for agent, (every, of_agent) in carried.items():
            row = rows[day, agent]
            row.peak, row.agent_peak = every, of_agent
            row.peak_own, row.agent_peak_own = own.get(agent, (0, 0))
    with transaction.atomic():
        KpiDayRollup.objects.across_organizations().filter(
            environment=environment, day__in=days).delete()
        insert_rows(KpiDayRollup, list(rows.values()))


def rebuild_kpi_days(environment: Environment) -> None:
    """Recount every local day of an environment's calls (the days listed by the database:
    no call's start read into Python)."""
    days = Call.objects.across_organizations().filter(environment=environment).annotate(
        day=TruncDate("started_at", tzinfo=environment.organization.tzinfo)
    ).values_list("day", flat=True).order_by().distinct()
    refresh_kpi_days(environment, set(days))
