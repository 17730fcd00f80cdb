"""When a rule would have fired over a past period, before it is saved.

The rule (saved or not) is replayed hour by hour over the local days [first, last] as the
evaluator would have judged it, with the same state machine: a firing starts at an hour
judged unusual while the rule was OK and lasts while the hours after it are judged unusual;
an hour not judged (unmirrored, too quiet) keeps the state. Each firing is what would have
been notified once: its first hour's figures and explanation. Only the `anomaly` condition
is replayed (its baseline is in the rollups, so a month costs one query).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from reports.alerts import coverage
from reports.alerts.anomaly import Hour, Judgement, judge_period
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


def _firing(rule: AlertRule, judgement: Judgement, tz) -> dict:
    detail = judgement.detail(rule, tz)
    return {"start": judgement.hour.start.astimezone(tz).isoformat(),
            "end": judgement.hour.end.astimezone(tz).isoformat(),
            "value": detail["value"], "expected": detail["expected"], "low": detail["low"],
            "high": detail["high"], "explanation": explanation(detail)}


def firings(rule: AlertRule, env_ids: tuple[int, ...], first: date, last: date,
            now: datetime) -> list[dict]:
    """The firings of `rule` over [first, last] (local days), oldest first."""
    return replay(rule, env_ids, first, last, now)["firings"]


def replay(rule: AlertRule, env_ids: tuple[int, ...], first: date, last: date,
           now: datetime) -> dict:
    """`firings` and the `series` they were judged on: each mirrored hour's local start
    (`t`), value and usual band (`low`, `high`: None where no band was drawn — a cold
    start, a quiet hour) and whether the rule was firing then (`firing`)."""
    tz = rule.organization.tzinfo
    mirrored = coverage.calls_mirrored(env_ids)
    found: list[dict] = []
    series: list[dict] = []
    firing = False
    for judgement in judge_period(rule, env_ids, mirrored, _hours(first, last, tz, now)):
        if judgement.reason == "not_mirrored":
            continue
        if judgement.judged:
            if judgement.firing and not firing:
                found.append(_firing(rule, judgement, tz))
            elif judgement.firing:
                found[-1]["end"] = judgement.hour.end.astimezone(tz).isoformat()
            firing = judgement.firing
        series.append({"t": judgement.hour.start.astimezone(tz).isoformat()[:16],
                       "value": judgement.value, "low": judgement.low,
                       "high": judgement.high, "firing": judgement.judged and firing})
    return {"firings": found, "series": series}
