"""The figures a summary shows, gathered once and shared by the HTML, text and CSV parts.

Every number comes from the report queries (`reports.queries`), the same functions behind the
dashboard and the API, so an email never disagrees with the portal. This module only arranges
them: totals with deltas, one row per environment, top agents, busiest day, freshness — and
each figure's door into the portal's calls explorer (`reports.drill`), as absolute links.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from portal.emails import absolute_url
from portal.models import Environment, Organization
from portal.replicas import reads_reports
from reports import registry
from reports.coverage_notes import (
    MissingNote,
    callbacks_differ_words,
    compared_spans,
    comparison_note,
    missing_notes,
    open_days_note,
)
from reports.drill import explorer_params, explorer_url
from reports.queries import (
    AgentRow,
    CallbacksSummary,
    CallbackTotals,
    CallsSummary,
    CallTotals,
    Delta,
    Freshness,
    freshness,
)
from reports.queries.callback_funnel import CallbackFunnel
from reports.queries.kpis import KpiSummary
from reports.queries.outcomes import OutcomeSummary
from reports.scope import ReportScope, build_scope
from reports.summaries.schedule import Period

TOP_AGENTS = 5


@dataclass(frozen=True)
class EnvironmentFigures:
    """One environment's calls and callbacks in the period."""

    environment_id: int
    name: str
    calls: CallTotals
    callbacks: CallbackTotals
    # Its vendor reports callback statistics (its spec's `callback_stats`): otherwise its
    # callback counts are no figures at all, and the email writes no line of them.
    callback_stats: bool = True


@dataclass
class Summary:
    """Everything one summary email says (shared by all its recipients)."""

    organization: Organization
    period: Period
    previous: Period
    calls: CallsSummary
    callbacks: CallbacksSummary
    environments: list[EnvironmentFigures]
    freshness: list[Freshness]
    dashboard_url: str
    scope: ReportScope | None = None
    # The callback funnel of the period (UTC days), None when not computed.
    funnel: CallbackFunnel | None = None
    # The teams whose figures these are (a recipient restricted to teams, or a subscription
    # naming one: `reports.summaries.recipients`); empty: the whole organisation.
    team_names: list[str] = field(default_factory=list)
    # The outcome report of the period (cost, cost per resolved call, repeat contacts: the
    # API's `reports.queries.outcomes`), None when not computed.
    outcomes: OutcomeSummary | None = None
    # The KPI report of the period (`reports.queries.kpis`), None when not computed.
    kpis: KpiSummary | None = None
    _charts: dict[str, bytes] = field(default_factory=dict, repr=False)

    def calls_url(self, **narrow) -> str:
        """The explorer over exactly the calls a figure of this summary counts (absolute)."""
        if self.scope is None:
            return ""
        path = explorer_url(self.organization.slug, explorer_params(self.scope, **narrow))
        return absolute_url(path)

    @property
    def doors(self) -> dict[str, str]:
        """The key figures' doors: all calls, answered calls (answer rate, talk time), the
        busiest day's calls."""
        busiest = self.busiest_day
        return {
            "calls": self.calls_url(), "answered": self.calls_url(outcome="answered"),
            "busiest_day": self.calls_url(start=busiest[0], end=busiest[0]) if busiest else "",
            "resolved": self.calls_url(resolution="resolved"),
            "repeat": self.calls_url(resolution="repeat"),
        }

    @property
    def funnel_shown(self) -> bool:
        """The callback section is written when the period has funnel figures, of vendors
        that have callbacks (`callbacks_reported`)."""
        t = self.funnel.totals if self.funnel is not None else None
        return bool(self.callbacks_reported and t and t.mirrored
                    and (t.received or t.outbound_unanswered))

    @property
    def callbacks_differ(self) -> str:
        """"The calls we linked and Talkover's callback statistics differ on" (the callbacks
        page's words, `reports.coverage_notes`)."""
        return callbacks_differ_words(self.scope.environments if self.scope else [])

    @property
    def funnel_doors(self) -> dict[str, str]:
        """The callback section's doors: each step's calls (UTC days, reports.drill)."""
        return {step: self.calls_url(callback=step, utc=True)
                for step in ("unanswered_outbound", "called_back", "received", "unmatched")}

    @property
    def environment_rows(self) -> list[tuple[EnvironmentFigures, str, str]]:
        """Each environment with the doors of its calls and of its answered calls."""
        return [(e, self.calls_url(env_id=e.environment_id),
                 self.calls_url(env_id=e.environment_id, outcome="answered"))
                for e in self.environments]

    @property
    def agent_rows(self) -> list[tuple[AgentRow, str, str, str]]:
        """Top agents with their environment's name when several are in the summary (two
        desks may share an agent name), and the doors of their calls and answered calls."""
        names = {e.environment_id: e.name for e in self.environments}
        several = len(names) > 1
        return [(a, names.get(a.environment_id, "") if several else "",
                 self.calls_url(env_id=a.environment_id, agent_id=a.agent_id),
                 self.calls_url(env_id=a.environment_id, agent_id=a.agent_id,
                                outcome="answered"))
                for a in self.top_agents]

    @property
    def deltas(self) -> dict[str, Delta]:
        """The KPI block's deltas, by template-friendly name."""
        return {
            "calls": self.calls.deltas["total"],
            "answer_rate": self.calls.deltas["answer_rate"],
            "talk_time": self.calls.deltas["talk_time_total"],
            "callbacks_received": self.callbacks.deltas["received"],
        }

    @property
    def top_agents(self) -> list[AgentRow]:
        return self.calls.agents[:TOP_AGENTS]

    @property
    def daily(self) -> list[tuple[date, int | None]]:
        """Calls per day; None for a day never mirrored (a gap, not a zero)."""
        return [(point.start, None if point.figures is None else point.figures.total)
                for point in self.calls.series]

    @property
    def busiest_day(self) -> tuple[date, int] | None:
        """The day with most calls (earliest on a tie); None for a period without calls or of
        one day (a daily summary has no "busiest day": it is the day itself)."""
        if len(self.daily) < 2:
            return None
        best = max(((d, n) for d, n in self.daily if n is not None),
                   key=lambda pair: pair[1], default=None)
        return best if best and best[1] else None

    @property
    def compared(self) -> bool:
        """The calls have a like-for-like previous period (see `Comparison`)."""
        return self.calls.comparison.available

    @property
    def compared_text(self) -> str:
        """The days the calls' changes set side by side (`reports.coverage_notes`)."""
        return compared_spans(self.calls.comparison)

    @property
    def comparison_note(self) -> str:
        return comparison_note(self.calls.comparison)

    @property
    def callbacks_reported(self) -> bool:
        """Some environment's vendor reports callback statistics: the callback figures
        mean something (a vendor without them is not a gap)."""
        return any(e.callback_stats for e in self.environments)

    @property
    def callbacks_comparison_note(self) -> str:
        return comparison_note(self.callbacks.comparison)

    @property
    def missing_notes(self) -> list[MissingNote]:
        """Environments with days never mirrored in the period (calls), named."""
        names = {e.environment_id: e.name for e in self.environments}
        names.update({f.environment_id: f.name for f in self.freshness})
        return missing_notes(self.calls.coverage, names)

    @property
    def open_note(self) -> str:
        return open_days_note(self.calls.comparison, self.calls.coverage.partial_days)

    @property
    def data_as_of(self) -> datetime | None:
        """The oldest "as of" (last sync, or a replica's replay moment if older): every
        figure is at least this fresh."""
        moments = [f.as_of for f in self.freshness]
        if not moments or None in moments:
            return None
        return min(moments)

    @property
    def stale(self) -> bool:
        return any(f.stale for f in self.freshness)

    def chart_png(self, language: str) -> bytes:
        """Rendered once per summary and language, attached to every recipient's message."""
        if language not in self._charts:
            # Pillow is imported by the first summary drawn, not by every start of Django
            # (the URLs import this module through the summaries' views).
            from reports.summaries.chart import daily_bars_png

            label = "%m/%d" if language == "en" else "%d/%m"
            self._charts[language] = daily_bars_png(self.daily, label)
        return self._charts[language]


def dashboard_url(organization: Organization, period: Period) -> str:
    """The portal dashboard for exactly the reported range."""
    query = urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})
    return absolute_url(f"/o/{organization.slug}/?{query}")


@reads_reports()
def build_summary(
    organization: Organization, envs: list[Environment], period: Period,
    now: datetime | None = None,
) -> Summary:
    """Gather the figures of `period` (with the previous period for deltas) over `envs`.

    `envs` must be non-empty and of `organization` (the report queries refuse otherwise).
    """
    scope = build_scope(organization, envs, period.start, period.end)
    calls, callbacks = registry.run("calls", scope), registry.run("callbacks", scope)
    if len(envs) == 1:
        per_env = [EnvironmentFigures(envs[0].pk, envs[0].name, calls.totals, callbacks.totals,
                                      envs[0].spec.callback_stats)]
    else:
        per_env = []
        for env in envs:
            one = build_scope(organization, [env], period.start, period.end)
            per_env.append(EnvironmentFigures(env.pk, env.name, registry.run("calls", one).totals,
                                              registry.run("callbacks", one).totals,
                                              env.spec.callback_stats))
    return Summary(
        organization=organization, period=period,
        previous=Period(calls.previous_start, calls.previous_end),
        calls=calls, callbacks=callbacks, environments=per_env,
        freshness=freshness(envs, now), dashboard_url=dashboard_url(organization, period),
        scope=scope, funnel=registry.run("callback_funnel", scope),
        outcomes=registry.run("outcomes", scope, now), kpis=registry.run("kpis", scope, now),
    )
