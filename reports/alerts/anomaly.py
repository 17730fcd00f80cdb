"""The `anomaly` condition: an hour judged against the same hour of the week in past weeks.

One local hour (the last complete one, in the organisation's timezone) is compared with the
same weekday and hour over the last `BASELINE_WEEKS` weeks — only the weeks the mirror
covers: an unmirrored week is left out of the baseline, never counted as zero, and an
unmirrored hour is never judged. Fewer than `MIN_WEEKS` mirrored weeks is a cold start:
the hour is judged against the rule's threshold (in the rule's direction) and says so;
a rule without one does not judge it (`no_history`).
Counts need an expected count of at least `min_calls`; rates need `min_calls` calls this
hour and usually (see `seasonal` for the band and the binomial test).

`judge_hour` is the decision over figures already read, shared by the live evaluation
(`judge_live`: this hour's calls from the mirror, past weeks from the rollups) and the
preview (`judge_period`: every hour of a period from the rollups in one query).
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from portal.tenancy.restriction import active as restriction_active
from reports.alerts import metrics
from reports.alerts.coverage import Mirrored
from reports.alerts.hourly import AlertScope, hourly_figures
from reports.alerts.metrics import Figures
from reports.alerts.models import AlertRule, AnomalyDirection, Metric
from reports.alerts.seasonal import (
    BASELINE_WEEKS,
    MIN_WEEKS,
    SENSITIVITY,
    Band,
    count_band,
    is_rate_anomaly,
    median,
    rate_band,
)
from reports.alerts.windows import Span

HOUR = timedelta(hours=1)
# The last complete hour is judged while the mirror is at most this far behind it (a sync
# interval); further behind, the rule says the calls are not mirrored yet.
MAX_LAG = timedelta(hours=2)
_PART = {Metric.ANSWER_RATE: "answered", Metric.FAILED_RATE: "failed",
         Metric.NO_ANSWER_RATE: "no_answer"}


@dataclasses.dataclass(frozen=True)
class Hour:
    """One local hour: its day and hour on the organisation's wall clock, and [start, end)
    in UTC."""

    day: date
    hour: int
    start: datetime
    end: datetime

    @classmethod
    def at(cls, day: date, hour: int, tz) -> Hour:
        start = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
        return cls(day, hour, start, start + HOUR)

    def weeks_before(self, tz) -> list[Hour]:
        return [Hour.at(self.day - timedelta(weeks=k), self.hour, tz)
                for k in range(1, BASELINE_WEEKS + 1)]

    def span(self) -> Span:
        return Span(self.start, self.end)


def last_complete_hour(moment: datetime, tz) -> Hour:
    """The local hour that ended last at `moment`."""
    floor = moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    start = (floor.astimezone(UTC) - HOUR).astimezone(tz)
    return Hour.at(start.date(), start.hour, tz)


@dataclasses.dataclass(frozen=True)
class Judgement:
    """One hour judged (or why not): `reason` is "anomaly" (against the band),
    "cold_start" (against the threshold), or a not-judged reason of `wording`."""

    hour: Hour
    reason: str
    firing: bool = False
    value: float | None = None
    calls: int = 0
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    history: tuple[tuple[date, float | None], ...] = ()

    @property
    def judged(self) -> bool:
        return self.reason in ("anomaly", "cold_start")

    def detail(self, rule: AlertRule, tz) -> dict:
        """The figures the explanation and the chart are drawn from (JSON)."""
        return {
            "reason": self.reason, "metric": rule.metric, "tz": tz.key,
            "start": self.hour.start.astimezone(tz).isoformat(),
            "end": self.hour.end.astimezone(tz).isoformat(),
            "value": _round(self.value), "calls": self.calls,
            "expected": _round(self.expected), "low": _round(self.low),
            "high": _round(self.high), "weeks": len(self.history),
            "threshold": rule.threshold, "direction": rule.anomaly_direction,
            "history": [[d.isoformat(), _round(v)] for d, v in self.history],
            "minimum": rule.min_calls, "window": self.hour.span().label(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _rate(figures: Figures, metric: str) -> float | None:
    return getattr(figures, _PART[metric]) / figures.calls if figures.calls else None


def judge_hour(rule: AlertRule, hour: Hour, current: Figures,
               past: dict[date, Figures]) -> Judgement:
    """Judge `current` against `past` (the mirrored weeks' same hour: day → figures)."""
    k, alpha = SENSITIVITY.get(rule.sensitivity, SENSITIVITY["medium"])
    below = rule.anomaly_direction != AnomalyDirection.ABOVE
    counting = rule.metric == Metric.CALLS
    value = current.value(rule.metric)
    if not counting and current.calls < rule.min_calls:
        return Judgement(hour, "too_few", value=value, calls=current.calls)
    days = sorted(past, reverse=True)
    history = tuple((d, past[d].calls if counting else _percent(_rate(past[d], rule.metric)))
                    for d in days)
    if len(past) < MIN_WEEKS:
        if value is None:
            return Judgement(hour, "no_calls", calls=current.calls, history=history)
        if rule.threshold is None:  # no cold-start threshold: nothing to judge it against
            return Judgement(hour, "no_history", value=value, calls=current.calls,
                             history=history)
        firing = value < rule.threshold if below else value > rule.threshold
        return Judgement(hour, "cold_start", firing, value, current.calls, history=history)
    usual_calls = median([f.calls for f in past.values()])
    if usual_calls < rule.min_calls or not (counting or any(f.calls for f in past.values())):
        return Judgement(hour, "too_few_expected", value=value, calls=current.calls,
                         expected=usual_calls if counting else None, history=history)
    if counting:
        band = count_band([f.calls for f in past.values()], k)
        firing = value < band.low if below else value > band.high
        return Judgement(hour, "anomaly", firing, value, current.calls, band.expected,
                         band.low, band.high, history)
    rates = [r for r in (_rate(f, rule.metric) for f in past.values()) if r is not None]
    band = rate_band(rates, current.calls, k)
    name = _PART[rule.metric]
    firing = is_rate_anomaly(getattr(current, name), current.calls,
                             sum(getattr(f, name) for f in past.values()),
                             sum(f.calls for f in past.values()), band, below=below,
                             alpha=alpha)
    return Judgement(hour, "anomaly", firing, value, current.calls, 100 * band.expected,
                     100 * band.low, 100 * band.high, history)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else 100 * rate


def scope_of(rule: AlertRule, env_ids: tuple[int, ...]) -> AlertScope:
    if rule.agent_id:
        return AlertScope(env_ids, (rule.agent_id,))
    return team_scope(env_ids)


def team_scope(env_ids: tuple[int, ...]) -> AlertScope:
    """The environments' calls as the request's context reads them: a team's agents only
    while a team restricts it (a team's rule is judged as its team, `reports.alerts.teams`;
    a team's wallboard shows its team)."""
    team = restriction_active()
    if team is not None:
        agents = tuple(sorted({agent for _, agent in team.agents}))
        return AlertScope(env_ids, agents or ("(no agents)",))
    return AlertScope(env_ids, ())


def judge_live(rule: AlertRule, env_ids: tuple[int, ...], mirrored: Mirrored,
               now: datetime) -> Judgement | tuple[str, dict]:
    """The last complete hour the mirror covers, judged; or (note, reading figures) when
    there is none to judge."""
    tz = rule.organization.tzinfo
    if mirrored.end is None:
        return "nothing mirrored yet", {"reason": "nothing_mirrored"}
    hour = last_complete_hour(min(now, mirrored.end), tz)
    if now - hour.end > MAX_LAG or not mirrored.covers(hour.start, hour.end):
        edge = (mirrored.end if now - hour.end > MAX_LAG else hour.start).astimezone(tz)
        return (f"calls after {edge:%Y-%m-%d %H:%M} not mirrored",
                {"reason": "not_mirrored", "comparison": False, "after": edge.isoformat()})
    before = [h for h in hour.weeks_before(tz) if mirrored.covers(h.start, h.end)]
    found = hourly_figures(scope_of(rule, env_ids), [h.day for h in before], hour.hour)
    past = {h.day: found.get((h.day, h.hour), Figures()) for h in before}
    current = metrics.figures(rule.metric, env_ids, hour.span(), rule.agent_id)
    return judge_hour(rule, hour, current, past)


def judge_period(rule: AlertRule, env_ids: tuple[int, ...], mirrored: Mirrored,
                 hours: list[Hour]) -> list[Judgement]:
    """Every hour of `hours` judged from the rollups, read in one query (the preview)."""
    if not hours:
        return []
    tz = rule.organization.tzinfo
    first = hours[0].day - timedelta(weeks=BASELINE_WEEKS)
    days = [first + timedelta(days=i) for i in range((hours[-1].day - first).days + 1)]
    found = hourly_figures(scope_of(rule, env_ids), days)
    judged = []
    for hour in hours:
        if not mirrored.covers(hour.start, hour.end):
            judged.append(Judgement(hour, "not_mirrored"))
            continue
        past = {h.day: found.get((h.day, h.hour), Figures())
                for h in hour.weeks_before(tz) if mirrored.covers(h.start, h.end)}
        judged.append(judge_hour(rule, hour, found.get((hour.day, hour.hour), Figures()),
                                 past))
    return judged


def usual_bands(scope: AlertScope, past_days: list[date],
                sensitivity: str = "medium") -> dict[int, Band]:
    """Each local hour's usual band of calls (the `anomaly` condition's count band) from
    `past_days`: the same weekday of earlier weeks, only those the mirror holds whole (the
    caller asks the coverage). Fewer than `MIN_WEEKS` of them: no band (a cold start)."""
    if len(past_days) < MIN_WEEKS:
        return {}
    k = SENSITIVITY.get(sensitivity, SENSITIVITY["medium"])[0]
    found = hourly_figures(scope, past_days)
    return {hour: count_band([found.get((d, hour), Figures()).calls for d in past_days], k)
            for hour in range(24)}
