"""When a rule would have fired over a past period, before it is saved.

The rule (saved or not) is replayed hour by hour over the local days [first, last] as the
evaluator would have judged it (`anomaly.judge_period`, the live evaluation's own path), with
the same state machine (`counts.Episodes`): a firing starts at an hour judged unusual while
the rule was OK — from the first hour of the run that made it unusual — and lasts while the
hours after it are judged unusual; an hour not judged (unmirrored, too quiet) keeps the
state. Each firing is written with the figures of its whole span, judged as one window, so
its sentence and its row say the same hours. Only the `anomaly` condition is replayed (its
baseline is in the rollups, so a month costs one query).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from reports.alerts import coverage
from reports.alerts.anomaly import Hour, Period, judge_period
from reports.alerts.counts import Episodes
from reports.alerts.explain import explanation
from reports.alerts.models import AlertRule

# The longest period one preview replays.
MAX_DAYS = 92


def _hours(first: date, last: date, tz, now: datetime) -> list[Hour]:
    """Every complete local hour of [first, last], once each (a DST gap maps two wall
    hours to one instant: kept once)."""
    hours, seen = [], set()
    for offset in range((last - first).days + 1):
        for h in range(24):
            hour = Hour.at(first + timedelta(days=offset), h, tz)
            if hour.end <= now and hour.start not in seen:
                seen.add(hour.start)
                hours.append(hour)
    return hours


def _firing(rule: AlertRule, period: Period, start: datetime, end: datetime, tz) -> dict:
    detail = period.summed(start, end).detail(rule, tz)
    return {"start": start.astimezone(tz).isoformat(), "end": end.astimezone(tz).isoformat(),
            "value": detail["value"], "expected": detail["expected"], "low": detail["low"],
            "high": detail["high"], "explanation": explanation(detail)}


def firings(rule: AlertRule, env_ids: tuple[int, ...], first: date, last: date,
            now: datetime) -> list[dict]:
    """The firings of `rule` over [first, last] (local days), oldest first."""
    return replay(rule, env_ids, first, last, now)["firings"]


def replay(rule: AlertRule, env_ids: tuple[int, ...], first: date, last: date,
           now: datetime) -> dict:
    """`firings` and the `series` they were judged on: each mirrored hour's local start
    (`t`), value and the band it was judged against (`low`, `high`: the hour's own, None
    where none was drawn — a cold start, a quiet hour judged only within its run, or a run
    that fired, whose band is of its sum) and whether it is one of a firing's hours
    (`firing`)."""
    tz = rule.organization.tzinfo
    hours = _hours(first, last, tz, now)
    period = judge_period(rule, env_ids, coverage.calls_mirrored(env_ids), hours)
    episodes = Episodes()
    series: list[dict] = []
    for judgement in period.judgements:
        if judgement.reason == "not_mirrored":
            continue
        episodes.add(judgement.judged, judgement.firing, judgement.window_start,
                     judgement.window_end)
        alone = judgement.hours == 1
        series.append({"t": judgement.hour.start, "value": judgement.value,
                       "low": judgement.low if alone else None,
                       "high": judgement.high if alone else None})
    for point in series:  # the hours of a firing, from its run's first hour
        point["firing"] = any(e.start <= point["t"] < e.end for e in episodes.found)
        point["t"] = point["t"].astimezone(tz).isoformat()[:16]
    found = [_firing(rule, period, e.start, e.end, tz) for e in episodes.found]
    return {"firings": found, "series": series}
