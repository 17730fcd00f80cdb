"""The value of a metric over a span: daily windows read the rollups, hourly ones the calls.

`AgentDayRollup` (one row per environment, local day, agent, direction) serves `day` and
`7d`; `1h` and `24h` count raw calls (the one call filter, `reports.call_filter`) through
the (environment, started_at) index, a few hundred rows at most. Testing calls never
count, as in every aggregate.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from portal.models import Environment, EnvironmentStatus
from portal.tenancy.restriction import narrowing
from reports import registry
from reports.alerts.models import (
    CALLBACK_METRICS,
    FUNNEL_METRICS,
    KPI_METRICS,
    OUTCOME_METRICS,
    SETTLED_METRICS,
    Metric,
)
from reports.alerts.windows import Span
from reports.call_filter import CallCriteria, filter_calls
from reports.queries import CallbackTotals, CallTotals
from reports.queries.callback_funnel import source_agents, team_outbound
from reports.queries.common import PercentileCont
from reports.queries.kpis import KpiRow, kpis_summary
from reports.queries.outcomes import OutcomeRow, span_outcome
from reports.registry import Unit
from sync.models import AgentDayRollup, Call, CallbackDay, CallbackFunnelDay, CallbackLink
from sync.models.core import ANSWERED_STATUSES, CallStatus


@dataclasses.dataclass(frozen=True)
class Figures:
    """What a metric is computed from: calls and their outcomes, or callbacks."""

    calls: int = 0
    answered: int = 0
    failed: int = 0
    no_answer: int = 0
    talk_time: int = 0
    median_seconds: float | None = None  # median time to callback
    outcome: OutcomeRow | None = None  # the outcome report's totals (OUTCOME_METRICS)
    kpi: KpiRow | None = None  # the KPI report's totals (KPI_METRICS)

    def value(self, metric: str) -> float | None:
        """The metric's value, by its one definition (`reports.registry`: what the report's
        pages, API and emails show) over these figures as that report's totals; shares in
        percent (a rule's threshold is written so). None when it has no denominator (no
        calls) or no cost is known."""
        declared = registry.metric(metric)
        found = declared.value(self.totals(metric))
        if found is None:
            return None
        return 100.0 * float(found) if declared.unit == Unit.RATE else float(found)

    def totals(self, metric: str) -> Any:
        """These figures as the totals the metric's report computes."""
        if metric in OUTCOME_METRICS:
            return self.outcome
        if metric in KPI_METRICS:
            return self.kpi
        if metric in FUNNEL_METRICS:
            return SimpleNamespace(outbound_unanswered=self.calls, called_back=self.answered,
                                   median_seconds_to_callback=self.median_seconds)
        if metric in CALLBACK_METRICS:
            return CallbackTotals(received=self.calls, answered=self.answered,
                                  unmatched=self.failed)
        return CallTotals(total=self.calls, answered=self.answered, failed=self.failed,
                          no_answer=self.no_answer, talk_time_total=self.talk_time)


def _calls_from_rollups(env_ids: Sequence[int], span: Span, agent_id: str) -> Figures:
    rows = AgentDayRollup.objects.filter(environment_id__in=env_ids, day__gte=span.first_day,
                                         day__lte=span.last_day, is_testing=False)
    if agent_id:
        rows = rows.filter(agent_external_id=agent_id)
    got = rows.aggregate(calls=Sum("calls"), answered=Sum("status_answered"),
                         completed=Sum("status_completed"), failed=Sum("status_failed"),
                         no_answer=Sum("status_no_answer"), talk=Sum("talk_time"))
    return Figures(calls=got["calls"] or 0,
                   answered=(got["answered"] or 0) + (got["completed"] or 0),
                   failed=got["failed"] or 0, no_answer=got["no_answer"] or 0,
                   talk_time=got["talk"] or 0)


def _calls_from_mirror(env_ids: Sequence[int], span: Span, agent_id: str) -> Figures:
    rows = filter_calls(CallCriteria(environment_ids=env_ids, started_from=span.start,
                                     started_before=span.end,
                                     agent_ids=[agent_id] if agent_id else None))
    connected = Q(status__in=list(ANSWERED_STATUSES))
    got = rows.order_by().aggregate(
        calls=Count("pk"), answered=Count("pk", filter=connected),
        failed=Count("pk", filter=Q(status=CallStatus.FAILED)),
        no_answer=Count("pk", filter=Q(status=CallStatus.NO_ANSWER)),
        talk=Sum("duration", filter=connected))
    return Figures(calls=got["calls"], answered=got["answered"], failed=got["failed"],
                   no_answer=got["no_answer"], talk_time=got["talk"] or 0)


def _callbacks(env_ids: Sequence[int], span: Span) -> Figures:
    """Callback days are the upstream's days: the span's local dates are used as they are.
    A team's rule (`reports.alerts.teams`) counts its links instead, as its callbacks page
    does (`reports.queries.callbacks`): the vendor's days count every agent's callbacks."""
    if narrowing(env_ids) is not None:
        got = CallbackLink.objects.filter(
            environment_id__in=env_ids, callback_day__gte=span.first_day,
            callback_day__lte=span.last_day, is_testing=False).aggregate(
            received=Count("id"), answered=Count("id", filter=Q(callback_answered=True)),
            unmatched=Count("id", filter=Q(source_external_id="")))
        return Figures(calls=got["received"], answered=got["answered"],
                       failed=got["unmatched"])
    got = CallbackDay.objects.filter(environment_id__in=env_ids, day__gte=span.first_day,
                                     day__lte=span.last_day).aggregate(
        received=Sum("total_received"), answered=Sum("answered"), unmatched=Sum("unmatched"))
    # `failed` carries the unmatched count so Figures.value stays one table.
    return Figures(calls=got["received"] or 0, answered=got["answered"] or 0,
                   failed=got["unmatched"] or 0)


def _funnel(metric: str, env_ids: Sequence[int], span: Span) -> Figures:
    """The callback funnel's metrics over the span's days (UTC days, as the callback stats):
    `calls` is the sample a rate is judged on (outbound calls not answered, or, for the
    median time, the callbacks of those calls: the funnel's), `answered` the ones called back."""
    days = {"day__gte": span.first_day, "day__lte": span.last_day}
    if metric == Metric.CALLBACK_RATE:
        # A team's rule: its agents' outbound calls not answered and, of them, those called
        # back (links whose source agent is theirs), as the funnel counts a team's.
        team = narrowing(env_ids)
        if team is None:
            outbound = CallbackFunnelDay.objects.filter(
                environment_id__in=env_ids, **days).aggregate(n=Sum("outbound_unanswered"))["n"]
        else:
            outbound = sum(team_outbound(Call.objects.filter(environment_id__in=env_ids),
                                         span.first_day, span.last_day).values())
        links = CallbackLink.objects.filter(
            environment_id__in=env_ids, source_day__gte=span.first_day,
            source_day__lte=span.last_day, is_testing=False, source_answered=False)
        if team is not None:
            links = links.filter(source_agents(team))
        back = links.values("environment_id", "source_external_id").distinct().count()
        return Figures(calls=outbound or 0, answered=back)
    got = CallbackLink.objects.filter(
        environment_id__in=env_ids, callback_day__gte=span.first_day,
        callback_day__lte=span.last_day, is_testing=False, source_answered=False).exclude(
        seconds_to_callback=None).aggregate(
        calls=Count("pk"), median=PercentileCont("seconds_to_callback", 0.5))
    median = None if got["median"] is None else round(got["median"], 1)  # as the funnel's
    return Figures(calls=got["calls"], median_seconds=median)


def _outcomes(metric: str, env_ids: Sequence[int], span: Span, agent_id: str,
              now: datetime | None) -> Figures:
    """The outcome report's totals over the span's calls (a team's rule: its agents', by the
    same restriction). `calls` is what `min_calls` judges: settled answered calls for the
    figures of known outcomes, calls for the cost."""
    org = Environment.objects.filter(pk__in=env_ids).select_related("organization").first(
        ).organization
    outcome = span_outcome(org, env_ids, span.start, span.end, now=now, agent_id=agent_id)
    return Figures(calls=outcome.settled if metric in SETTLED_METRICS else outcome.calls,
                   outcome=outcome)


# The count a KPI's share is judged on (`min_calls`): its denominator.
KPI_SAMPLES = {Metric.SUCCESS_RATE: "evaluated", Metric.TRANSFER_RATE: "answered",
               Metric.ABANDON_RATE: "inbound", Metric.PEAK_CONCURRENCY: "calls"}


def _kpis(metric: str, env_ids: Sequence[int], span: Span, agent_id: str,
          now: datetime | None) -> Figures:
    """The KPI report's totals over the window's local days (a team's rule: its agents', by
    the same restriction)."""
    envs = list(Environment.objects.filter(pk__in=env_ids).select_related("organization"))
    totals = kpis_summary(envs, span.first_day, span.last_day, "month", now=now,
                          agent_ids=[agent_id] if agent_id else None).totals
    return Figures(calls=getattr(totals, KPI_SAMPLES[metric]) or 0, kpi=totals)


def figures(metric: str, env_ids: Sequence[int], span: Span, agent_id: str = "",
            now: datetime | None = None) -> Figures:
    if metric in OUTCOME_METRICS:
        return _outcomes(metric, env_ids, span, agent_id, now)
    if metric in KPI_METRICS:
        return _kpis(metric, env_ids, span, agent_id, now)
    if metric in FUNNEL_METRICS:
        return _funnel(metric, env_ids, span)
    if metric in CALLBACK_METRICS:
        return _callbacks(env_ids, span)
    if span.first_day is not None:
        return _calls_from_rollups(env_ids, span, agent_id)
    return _calls_from_mirror(env_ids, span, agent_id)


def health_value(metric: str, env_ids: Sequence[int], now: datetime | None = None) -> float:
    """`minutes_since_sync`: the stalest environment's minutes since its last successful
    sync (since it was added, if never); `token_rejected`: environments whose token the
    upstream rejected."""
    now = now or timezone.now()
    envs = Environment.objects.filter(pk__in=env_ids)
    if metric == Metric.TOKEN_REJECTED:
        return float(envs.filter(status=EnvironmentStatus.AUTH_FAILED).count())
    worst = 0.0
    for last, created in envs.values_list("last_synced_at", "created_at"):
        since = last or created
        worst = max(worst, (now - since).total_seconds() / 60)
    return round(worst, 1)
