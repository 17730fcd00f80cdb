"""The `anomaly` condition: an hour judged against the same hour of the week in past weeks.

One local hour (the last complete one, in the organisation's timezone) is compared with the
same weekday and hour over the last `BASELINE_WEEKS` weeks — only the weeks the mirror
covers: an unmirrored week is left out of the baseline, never counted as zero, and an
unmirrored hour is never judged. Fewer than `MIN_WEEKS` mirrored weeks is a cold start:
the hour is judged against the rule's threshold (in the rule's direction) and says so;
a rule without one does not judge it (`no_history`).
Calls are judged as counts (`counts`: Poisson or negative binomial, alone and in runs of
2–6 hours, a window judged when it usually holds `min_calls` calls); rates need `min_calls`
calls this hour and are judged alone (see `seasonal` for the band and the binomial test).

`judge_period` is the one path: the live evaluation (`judge_live`) judges the last complete
hour through it, the preview (`preview`) every hour of a period, both from the rollups read
in one query, in the organisation's zone and with its holiday calendar (`reports.holidays`:
a holiday's hours are judged against past Sundays', a past holiday is in no baseline).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from portal.tenancy.restriction import active as restriction_active
from reports.alerts import counts
from reports.alerts.counts import HOUR, CountJudgement, CountSeries, Hour, last_complete_hour
from reports.alerts.coverage import Mirrored
from reports.alerts.hourly import AlertScope, hourly_figures
from reports.alerts.metrics import Figures
from reports.alerts.models import AlertRule, AnomalyDirection, Metric
from reports.alerts.seasonal import (
    BASELINE_WEEKS,
    MIN_WEEKS,
    SENSITIVITY,
    Band,
    is_rate_anomaly,
    median,
    rate_band,
)
from reports.alerts.windows import Span
from reports.holidays.models import holidays_of

__all__ = ["Hour", "Judgement", "judge_live", "judge_period", "last_complete_hour"]
# The last complete hour is judged while the mirror is at most this far behind it (a sync
# interval); further behind, the rule says the calls are not mirrored yet.
MAX_LAG = timedelta(hours=2)
_PART = {Metric.ANSWER_RATE: "answered", Metric.FAILED_RATE: "failed",
         Metric.NO_ANSWER_RATE: "no_answer"}


@dataclasses.dataclass(frozen=True)
class Judgement:
    """One hour judged (or why not): `reason` is "anomaly" (against the band),
    "cold_start" (against the threshold), or a not-judged reason of `wording`. A count is
    judged over a window [start, hour's end): the hour alone or the run of hours it ends
    (`hours`); `start` None: the hour alone."""

    hour: Hour
    reason: str
    firing: bool = False
    value: float | None = None
    calls: int = 0
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    history: tuple[tuple[date, float | None], ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    hours: int = 1
    dispersion: float | None = None  # counts: φ of the model (0: Poisson)

    @property
    def judged(self) -> bool:
        return self.reason in ("anomaly", "cold_start")

    @property
    def window_start(self) -> datetime:
        return self.start or self.hour.start

    @property
    def window_end(self) -> datetime:
        return self.end or self.hour.end

    def span(self) -> Span:
        return Span(self.window_start, self.window_end)

    def detail(self, rule: AlertRule, tz) -> dict:
        """The figures the explanation and the chart are drawn from (JSON)."""
        return {
            "reason": self.reason, "metric": rule.metric, "tz": tz.key,
            "start": self.window_start.astimezone(tz).isoformat(),
            "end": self.window_end.astimezone(tz).isoformat(), "hours": self.hours,
            "value": _round(self.value), "calls": self.calls,
            "expected": _round(self.expected), "low": _round(self.low),
            "high": _round(self.high), "weeks": sum(v is not None for _d, v in self.history),
            "threshold": rule.threshold, "direction": rule.anomaly_direction,
            "history": [[d.isoformat(), _round(v)] for d, v in self.history],
            "minimum": rule.min_calls, "window": self.span().label(),
            **({} if self.dispersion is None else {
                "model": "negative_binomial" if self.dispersion > 0 else "poisson",
                "dispersion": round(self.dispersion, 5)}),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _rate(figures: Figures, metric: str) -> float | None:
    return getattr(figures, _PART[metric]) / figures.calls if figures.calls else None


def _percent(rate: float | None) -> float | None:
    return None if rate is None else 100 * rate


def judge_hour(rule: AlertRule, hour: Hour, current: Figures,
               past: dict[date, Figures]) -> Judgement:
    """A rate (or a count's cold start) judged: `current` against `past` (the mirrored
    weeks' same hour: day → figures)."""
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
    if usual_calls < rule.min_calls or not any(f.calls for f in past.values()):
        return Judgement(hour, "too_few_expected", value=value, calls=current.calls,
                         history=history)
    rates = [r for r in (_rate(f, rule.metric) for f in past.values()) if r is not None]
    band = rate_band(rates, current.calls, k)
    name = _PART[rule.metric]
    firing = is_rate_anomaly(getattr(current, name), current.calls,
                             sum(getattr(f, name) for f in past.values()),
                             sum(f.calls for f in past.values()), band, below=below,
                             alpha=alpha)
    return Judgement(hour, "anomaly", firing, value, current.calls, 100 * band.expected,
                     100 * band.low, 100 * band.high, history)


def _from_counts(hour: Hour, found: CountJudgement, series: CountSeries) -> Judgement:
    """A count's judgement (`counts`) as the rule's: its history dated by the days the
    window's first hour was compared with."""
    first = Hour.starting(found.start, series.tz)
    history = tuple((day, None if v is None else float(v))
                    for day, v in zip(series.compared(first.day), found.history, strict=True))
    return Judgement(
        hour, "anomaly" if found.judged else "too_few_expected", found.firing,
        float(found.count), found.count, found.expected,
        None if found.low is None else float(found.low),
        None if found.high is None else float(found.high), history,
        start=found.start, hours=found.hours, dispersion=found.dispersion)


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
    """The last complete hour the mirror covers, judged as the preview judges it; or (note,
    reading figures) when there is none to judge."""
    tz = rule.organization.tzinfo
    if mirrored.end is None:
        return "nothing mirrored yet", {"reason": "nothing_mirrored"}
    hour = last_complete_hour(min(now, mirrored.end), tz)
    if now - hour.end > MAX_LAG or not mirrored.covers(hour.start, hour.end):
        edge = (mirrored.end if now - hour.end > MAX_LAG else hour.start).astimezone(tz)
        return (f"calls after {edge:%Y-%m-%d %H:%M} not mirrored",
                {"reason": "not_mirrored", "comparison": False, "after": edge.isoformat()})
    return judge_period(rule, env_ids, mirrored, [hour]).judgements[0]


class Period:
    """The hours of a period judged from the rollups (read in one query), and any span of
    them summed up as one window (a preview's firing)."""

    def __init__(self, rule: AlertRule, env_ids: tuple[int, ...], mirrored: Mirrored,
                 hours: list[Hour]) -> None:
        self.rule, self.mirrored = rule, mirrored
        self.tz = rule.organization.tzinfo
        self.series = CountSeries(self._count, self.tz, BASELINE_WEEKS,
                                  holidays_of(rule.organization) if hours else frozenset())
        # The days of each hour's runs (the day before, when they cross midnight) and the
        # days they are compared with.
        run_days = {Hour.starting(h.start - back * HOUR, self.tz).day for h in hours
                    for back in range(counts.LONGEST_RUN)}
        days = run_days.union(*(self.series.compared(day) for day in run_days))
        self.found = hourly_figures(scope_of(rule, env_ids), days) if hours else {}
        self._covered: dict[tuple[date, int], bool] = {}
        self.judgements = [self._judge(hour) for hour in hours]

    def _mirrored(self, day: date, hour: int) -> bool:
        if (day, hour) not in self._covered:
            at = Hour.at(day, hour, self.tz)
            self._covered[(day, hour)] = self.mirrored.covers(at.start, at.end)
        return self._covered[(day, hour)]

    def _figures(self, day: date, hour: int) -> Figures:
        return self.found.get((day, hour), Figures())

    def _count(self, day: date, hour: int) -> int | None:
        return self._figures(day, hour).calls if self._mirrored(day, hour) else None

    def _compared(self, hour: Hour) -> list[Hour]:
        """The same hour of the days `hour` is compared with (`CountSeries.compared`)."""
        return [Hour.at(day, hour.hour, self.tz) for day in self.series.compared(hour.day)]

    def _past(self, hour: Hour) -> dict[date, Figures]:
        return {h.day: self._figures(h.day, h.hour) for h in self._compared(hour)
                if h.day not in self.series.holidays and self._mirrored(h.day, h.hour)}

    def _judge(self, hour: Hour) -> Judgement:
        if not self._mirrored(hour.day, hour.hour):
            return Judgement(hour, "not_mirrored")
        past = self._past(hour)
        if self.rule.metric != Metric.CALLS or len(past) < MIN_WEEKS:
            return judge_hour(self.rule, hour, self._figures(hour.day, hour.hour), past)
        alpha = counts.ALPHA.get(self.rule.sensitivity, counts.ALPHA["medium"])
        found = self.series.judge(
            hour, below=self.rule.anomaly_direction != AnomalyDirection.ABOVE, alpha=alpha,
            min_expected=self.rule.min_calls)
        return _from_counts(hour, found, self.series)

    def summed(self, start: datetime, end: datetime) -> Judgement:
        """[start, end) (whole hours, mirrored) judged as one window: a firing's figures."""
        hours = [Hour.starting(start + i * HOUR, self.tz)
                 for i in range(round((end - start) / HOUR))]
        if self.rule.metric == Metric.CALLS:
            found = self.series.hours(hours)
            past = self._past(hours[-1])
            if found is not None and len(past) >= MIN_WEEKS:
                alpha = counts.ALPHA.get(self.rule.sensitivity, counts.ALPHA["medium"])
                window = counts.judge_window(
                    found, phi=self.series.phi(hours[-1].day),
                    below=self.rule.anomaly_direction != AnomalyDirection.ABOVE,
                    level=alpha / counts.LONGEST_RUN, min_expected=0.0)
                return _from_counts(hours[-1], window, self.series)
        current = _sum(self._figures(h.day, h.hour) for h in hours)
        weeks = [self._compared(h) for h in hours]
        past = {}
        for same in zip(*weeks, strict=True):  # one past week's hours of the span
            if all(h.day not in self.series.holidays and self._mirrored(h.day, h.hour)
                   for h in same):
                past[same[0].day] = _sum(self._figures(h.day, h.hour) for h in same)
        judged = judge_hour(self.rule, hours[0], current, past)
        return dataclasses.replace(judged, start=start, end=end, hours=len(hours))


def _sum(figures: Iterable[Figures]) -> Figures:
    every = list(figures)
    return Figures(calls=sum(f.calls for f in every), answered=sum(f.answered for f in every),
                   failed=sum(f.failed for f in every),
                   no_answer=sum(f.no_answer for f in every))


def judge_period(rule: AlertRule, env_ids: tuple[int, ...], mirrored: Mirrored,
                 hours: list[Hour]) -> Period:
    """Every hour of `hours` judged (`Period.judgements`, in order)."""
    return Period(rule, env_ids, mirrored, hours)


def usual_bands(scope: AlertScope, past_days: list[date],
                sensitivity: str = "medium") -> dict[int, Band]:
    """Each local hour's usual band of calls alone (the `anomaly` condition's count model at
    the level it gives one hour) from `past_days`: the same weekday of earlier weeks, only
    those the mirror holds whole (the caller asks the coverage). Fewer than `MIN_WEEKS` of
    them: no band (a cold start)."""
    if len(past_days) < MIN_WEEKS:
        return {}
    alpha = counts.ALPHA.get(sensitivity, counts.ALPHA["medium"])
    found = hourly_figures(scope, past_days)
    pasts = {hour: [found.get((d, hour), Figures()).calls for d in past_days]
             for hour in range(24)}
    phi = counts.dispersion(pasts.values())
    bands = {}
    for hour, past in pasts.items():
        band = counts.hour_band(past, phi, alpha)
        if band is not None and band.low is not None:
            bands[hour] = Band(band.expected, float(band.low), float(band.high))
    return bands
