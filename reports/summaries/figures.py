"""The figures a summary shows, gathered once and shared by the HTML, text and CSV parts.

The numbers come from the report query layer so that an email, the dashboard and the API
agree; this module only arranges them per period with the previous period for deltas.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Min, Q, Sum

from portal.models import Environment, Organization
from reports.summaries.schedule import Period
from sync.models import ANSWERED_STATUSES, Agent, CallbackDay, CallRollup


@dataclass(frozen=True)
class Delta:
    """A figure with its value in the previous period; arrow plus words, never colour alone."""

    current: float
    previous: float

    @property
    def change(self) -> float:
        return self.current - self.previous

    @property
    def percent(self) -> float | None:
        if not self.previous:
            return None
        return 100.0 * self.change / self.previous

    @property
    def arrow(self) -> str:
        return "▲" if self.change > 0 else "▼" if self.change < 0 else "="

    @property
    def direction(self) -> str:
        return "up" if self.change > 0 else "down" if self.change < 0 else "same"


@dataclass(frozen=True)
class CallFigures:
    """Call and callback totals for one period (one environment or all)."""

    calls: int = 0
    answered: int = 0
    talk_seconds: int = 0
    callbacks_received: int = 0
    callbacks_answered: int = 0
    callbacks_unmatched: int = 0

    @property
    def answer_rate(self) -> float:
        """Answered share in percent (0 when there were no calls)."""
        return 100.0 * self.answered / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class EnvironmentSummary:
    environment_id: int
    name: str
    current: CallFigures
    previous: CallFigures


@dataclass(frozen=True)
class AgentRow:
    name: str
    calls: int
    answered: int


@dataclass
class Summary:
    """Everything one summary email says (shared by every recipient)."""

    organization: Organization
    period: Period
    previous: Period
    environments: list[EnvironmentSummary]
    total: CallFigures
    total_previous: CallFigures
    top_agents: list[AgentRow]
    daily: list[tuple[date, int]]
    data_as_of: datetime | None
    dashboard_url: str
    deltas: dict[str, Delta] = field(default_factory=dict)

    @property
    def busiest_day(self) -> tuple[date, int] | None:
        if not self.daily or not any(c for _, c in self.daily):
            return None
        return max(self.daily, key=lambda pair: (pair[1], -pair[0].toordinal()))


def _call_figures(envs: list[Environment], period: Period) -> dict[int, CallFigures]:
    rollups = CallRollup.objects.filter(
        environment__in=envs, day__gte=period.start, day__lte=period.end, is_testing=False
    )
    calls = {
        row["environment_id"]: row
        for row in rollups.values("environment_id").annotate(
            calls=Sum("count"),
            answered=Sum("count", filter=Q(status__in=ANSWERED_STATUSES)),
            talk=Sum("duration_sum"),
        )
    }
    callbacks = {
        row["environment_id"]: row
        for row in CallbackDay.objects.filter(
            environment__in=envs, day__gte=period.start, day__lte=period.end
        )
        .values("environment_id")
        .annotate(r=Sum("total_received"), a=Sum("answered"), u=Sum("unmatched"))
    }
    result = {}
    for env in envs:
        c, cb = calls.get(env.pk, {}), callbacks.get(env.pk, {})
        result[env.pk] = CallFigures(
            calls=c.get("calls") or 0, answered=c.get("answered") or 0,
            talk_seconds=c.get("talk") or 0, callbacks_received=cb.get("r") or 0,
            callbacks_answered=cb.get("a") or 0, callbacks_unmatched=cb.get("u") or 0,
        )
    return result


def _sum(figures: list[CallFigures]) -> CallFigures:
    names = CallFigures.__dataclass_fields__
    return CallFigures(**{n: sum(getattr(f, n) for f in figures) for n in names})


def _top_agents(envs: list[Environment], period: Period, limit: int = 5) -> list[AgentRow]:
    rows = list(
        CallRollup.objects.filter(
            environment__in=envs, day__gte=period.start, day__lte=period.end, is_testing=False
        )
        .values("environment_id", "agent_external_id")
        .annotate(calls=Sum("count"), answered=Sum("count", filter=Q(status__in=ANSWERED_STATUSES)))
        .order_by("-calls", "agent_external_id")[:limit]
    )
    names = {
        (a.environment_id, a.external_id): a.name
        for a in Agent.objects.filter(
            environment__in=envs, external_id__in=[r["agent_external_id"] for r in rows]
        )
    }
    return [
        AgentRow(
            name=names.get((r["environment_id"], r["agent_external_id"]))
            or r["agent_external_id"] or "—",
            calls=r["calls"], answered=r["answered"] or 0,
        )
        for r in rows
    ]


def _daily(envs: list[Environment], period: Period) -> list[tuple[date, int]]:
    counts = dict(
        CallRollup.objects.filter(
            environment__in=envs, day__gte=period.start, day__lte=period.end, is_testing=False
        )
        .values("day")
        .annotate(n=Sum("count"))
        .values_list("day", "n")
    )
    days = [date.fromordinal(period.start.toordinal() + i) for i in range(period.days)]
    return [(d, counts.get(d, 0)) for d in days]


def dashboard_url(organization: Organization, period: Period) -> str:
    """The portal dashboard for exactly the reported range."""
    query = urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/o/{organization.slug}/?{query}"


def build_summary(
    organization: Organization, envs: list[Environment], period: Period, previous: Period
) -> Summary:
    """Gather the figures of `period` (and `previous` for deltas) over `envs`."""
    current, before = _call_figures(envs, period), _call_figures(envs, previous)
    env_rows = [EnvironmentSummary(e.pk, e.name, current[e.pk], before[e.pk]) for e in envs]
    total, total_prev = _sum(list(current.values())), _sum(list(before.values()))
    as_of = Environment.objects.filter(pk__in=[e.pk for e in envs]).aggregate(
        m=Min("last_synced_at")
    )["m"]
    summary = Summary(
        organization=organization, period=period, previous=previous, environments=env_rows,
        total=total, total_previous=total_prev, top_agents=_top_agents(envs, period),
        daily=_daily(envs, period), data_as_of=as_of,
        dashboard_url=dashboard_url(organization, period),
    )
    summary.deltas = {
        "calls": Delta(total.calls, total_prev.calls),
        "answer_rate": Delta(round(total.answer_rate, 1), round(total_prev.answer_rate, 1)),
        "talk_seconds": Delta(total.talk_seconds, total_prev.talk_seconds),
        "callbacks_received": Delta(total.callbacks_received, total_prev.callbacks_received),
    }
    return summary
