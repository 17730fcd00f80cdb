"""Judge a rule over covered data, and move its state exactly once per change.

A window that is not mirrored yet is never judged ("not judged: day X not mirrored"): the
rule keeps its state and says why; `minutes_since_sync` is the rule that fires then. A
change of state is claimed with a conditional UPDATE on (state, state_seq), as healthchecks
and the emailed summaries do, and its `AlertEvent` is written in the same transaction; only
that process notifies (see `deliver`).
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from reports.alerts import anomaly, coverage, metrics
from reports.alerts.coverage import Mirrored
from reports.alerts.models import (
    CALLBACK_METRICS,
    CHANGE_CONDITIONS,
    HEALTH_METRICS,
    RATE_METRICS,
    SETTLED_METRICS,
    AlertEvent,
    AlertRule,
    Condition,
    EventState,
    NotifyStatus,
    RuleState,
)
from reports.alerts.teams import as_team, keep_children, team_environment_ids
from reports.alerts.windows import ROLLING, Span, comparison_span, window_span
from reports.alerts.wording import judged_in_english

log = logging.getLogger(__name__)


def _rules() -> QuerySet[AlertRule]:
    """Every organisation's rules: the evaluator judges them all (the named door)."""
    return AlertRule.objects.across_organizations()


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One evaluation. `judged` False: not enough (mirrored) data; `note` says why."""

    judged: bool
    firing: bool = False
    value: float | None = None
    compare_value: float | None = None
    calls: int | None = None
    span: Span | None = None
    note: str = ""
    coverage: str = ""
    # The same in data (a reason code and its figures), worded per language by `wording`.
    reading: dict = dataclasses.field(default_factory=dict)
    # The `anomaly` condition's band and figures (`anomaly.Judgement.detail`), kept on the
    # event for its explanation and chart.
    detail: dict = dataclasses.field(default_factory=dict)


def not_judged(note: str, span: Span | None = None, reason: str = "error",
               **figures) -> Verdict:
    return Verdict(False, note=f"not judged: {note}", span=span,
                   reading={"reason": reason, **figures})


def _not_mirrored(what: tuple[str, dict], *, comparison: bool = False) -> dict:
    text, figures = what
    return {"note": f"{'comparison ' if comparison else ''}{text} not mirrored",
            "reason": "not_mirrored", "comparison": comparison, **figures}


class Context:
    """Per-pass caches: rules over the same environments share their coverage answer."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._mirrored: dict[tuple[int, ...], Mirrored] = {}

    def mirrored(self, env_ids: tuple[int, ...]) -> Mirrored:
        if env_ids not in self._mirrored:
            self._mirrored[env_ids] = coverage.calls_mirrored(env_ids)
        return self._mirrored[env_ids]


def _uncovered_day(span: Span, mirrored: Mirrored, tz) -> tuple[str, dict]:
    """The first local day (or time) of `span` outside the mirror: for the note, and as
    figures for the worded reading."""
    if span.first_day is None:
        edge = (mirrored.end or span.start).astimezone(tz)
        return f"calls after {edge:%Y-%m-%d %H:%M}", {"after": edge.isoformat()}
    if mirrored.start is not None and span.start < mirrored.start:
        return f"day {span.first_day.isoformat()}", {"day": span.first_day.isoformat()}
    edge = mirrored.end.astimezone(tz).date() if mirrored.end else span.first_day
    day = max(edge, span.first_day).isoformat()
    return f"day {day}", {"day": day}


def _span_for(rule: AlertRule, ctx: Context, env_ids: tuple[int, ...], tz
              ) -> tuple[Span | None, str | dict]:
    """The span to judge and a coverage text, or (None, why) when it is not mirrored (`why`:
    the note and reading of `not_judged`)."""
    if rule.metric in CALLBACK_METRICS:
        span = window_span(rule.window, ctx.now, tz)
        missing = coverage.callbacks_missing_day(env_ids, span.first_day, span.last_day)
        if missing is not None:
            return None, _not_mirrored((f"day {missing.isoformat()}",
                                        {"day": missing.isoformat()}))
        return span, f"callback days {span.label()} mirrored"
    mirrored = ctx.mirrored(env_ids)
    if mirrored.end is None:
        return None, {"note": "nothing mirrored yet", "reason": "nothing_mirrored"}
    end = ctx.now
    if rule.window in ROLLING:
        # A rolling window ends where the mirror does when that is earlier than now.
        end = min(ctx.now, mirrored.end)
        if ctx.now - end > ROLLING[rule.window]:
            span = window_span(rule.window, ctx.now, tz)
            return None, _not_mirrored(_uncovered_day(span, mirrored, tz))
    span = window_span(rule.window, end, tz)
    if rule.metric in SETTLED_METRICS:  # the latest window whose calls have settled
        span = span.shifted(timedelta(days=rule.organization.resolution_window_days))
    if not mirrored.covers(span.start, span.end):
        return None, _not_mirrored(_uncovered_day(span, mirrored, tz))
    return span, f"mirrored until {mirrored.end:%Y-%m-%d %H:%M} UTC"


def judge(rule: AlertRule, ctx: Context, env_ids: Iterable[int] | None = None) -> Verdict:
    """Evaluate `rule` at `ctx.now` without changing anything."""
    env_ids = tuple(sorted(env_ids if env_ids is not None else
                           rule.environments.values_list("pk", flat=True)))
    if not env_ids:
        return not_judged("no environment selected", reason="no_environment")
    tz = rule.organization.tzinfo
    if rule.metric in HEALTH_METRICS:
        value = metrics.health_value(rule.metric, env_ids, ctx.now)
        return _decide(rule, value, None, None, None, "health of the mirror")
    if rule.condition == Condition.ANOMALY:
        return _judge_anomaly(rule, ctx, env_ids)
    span, cover = _span_for(rule, ctx, env_ids, tz)
    if span is None:
        return not_judged(**cover)
    current = metrics.figures(rule.metric, env_ids, span, rule.agent_id, ctx.now)
    if rule.metric in RATE_METRICS and current.calls < rule.min_calls:
        return not_judged(f"{current.calls} calls in {span.label()}, fewer than "
                          f"{rule.min_calls}", span, "too_few", calls=current.calls,
                          minimum=rule.min_calls, window=span.label())
    value = current.value(rule.metric)
    if value is None:
        return not_judged(f"no calls in {span.label()}", span, "no_calls", window=span.label())
    compare_value = None
    if rule.condition in CHANGE_CONDITIONS:
        other = comparison_span(span, rule.window, rule.compare_to)
        if rule.metric in CALLBACK_METRICS:
            missing = coverage.callbacks_missing_day(env_ids, other.first_day, other.last_day)
            if missing is not None:
                return not_judged(span=span, **_not_mirrored(
                    (f"day {missing.isoformat()}", {"day": missing.isoformat()}),
                    comparison=True))
        else:
            mirrored = ctx.mirrored(env_ids)
            if not mirrored.covers(other.start, other.end):
                return not_judged(span=span, **_not_mirrored(
                    _uncovered_day(other, mirrored, tz), comparison=True))
        before = metrics.figures(rule.metric, env_ids, other, rule.agent_id, ctx.now)
        if rule.metric in RATE_METRICS and before.calls < rule.min_calls:
            return not_judged(f"{before.calls} calls in the comparison window "
                              f"{other.label()}, fewer than {rule.min_calls}", span,
                              "too_few_before", calls=before.calls, minimum=rule.min_calls,
                              window=other.label())
        compare_value = before.value(rule.metric)
        if not compare_value:
            return not_judged(f"no baseline in {other.label()}", span, "no_baseline",
                              window=other.label())
    return _decide(rule, value, compare_value, current.calls, span, cover)


def _judge_anomaly(rule: AlertRule, ctx: Context, env_ids: tuple[int, ...]) -> Verdict:
    mirrored = ctx.mirrored(env_ids)
    found = anomaly.judge_live(rule, env_ids, mirrored, ctx.now)
    if isinstance(found, tuple):
        note, reading = found
        return not_judged(note, **reading)
    span = found.span()  # the hour, or the run of hours it ends
    detail = found.detail(rule, rule.organization.tzinfo)
    if not found.judged:
        return not_judged(f"{found.reason} over {span.label()}", span, **detail)
    band = (f"usually {found.expected:.4g} ({found.low:.4g}–{found.high:.4g})"
            if found.reason == "anomaly" else f"cold start, threshold {rule.threshold:g}")
    note = (f"{'firing' if found.firing else 'ok'}: {rule.metric} {found.value:.4g}, {band} "
            f"over {span.label()}")
    return Verdict(True, found.firing, round(found.value, 4), None, found.calls, span, note,
                   f"mirrored until {mirrored.end:%Y-%m-%d %H:%M} UTC", detail, detail)


def _decide(rule: AlertRule, value: float, compare_value: float | None, calls: int | None,
            span: Span | None, cover: str) -> Verdict:
    if compare_value is not None:
        change = 100.0 * (value - compare_value) / abs(compare_value)
        limit = abs(rule.threshold)
        firing = change > limit if rule.condition == Condition.CHANGE_ABOVE_PCT \
            else change < -limit
    else:
        firing = value > rule.threshold if rule.condition == Condition.ABOVE \
            else value < rule.threshold
    where = f" over {span.label()}" if span else ""
    reading = {"reason": "judged", "value": value, "compare_value": compare_value,
               "window": span.label() if span else ""}
    # The stored note (admin, API, dry run) in the words and figures the pages use.
    note = judged_in_english(rule, reading)
    return Verdict(True, firing, round(value, 4), compare_value, calls, span,
                   f"{'firing' if firing else 'ok'}: {note}{where}", cover, reading)


def transition(rule: AlertRule, verdict: Verdict, now: datetime) -> AlertEvent | None:
    """Record the evaluation; on a change of state, claim it and write its event.

    Returns the event for the one process whose conditional UPDATE moved the state.
    """
    _rules().filter(pk=rule.pk).update(
        last_evaluated_at=now, last_note=verdict.note[:300], last_reading=verdict.reading,
        last_value=verdict.value if verdict.judged else rule.last_value)
    if not verdict.judged:
        return None
    new_state = RuleState.FIRING if verdict.firing else RuleState.OK
    if new_state == rule.state:
        return None
    snoozed = rule.is_snoozed(now)
    try:
        with transaction.atomic():
            moved = _rules().filter(
                pk=rule.pk, state=rule.state, state_seq=rule.state_seq
            ).update(state=new_state, state_seq=F("state_seq") + 1, state_changed_at=now,
                     acknowledged_at=None, acknowledged_by=None)
            if not moved:
                return None
            span = verdict.span
            return AlertEvent.objects.create(
                rule=rule, organization_id=rule.organization_id, seq=rule.state_seq + 1,
                state=EventState.FIRING if verdict.firing else EventState.RESOLVED,
                metric=rule.metric, value=verdict.value, compare_value=verdict.compare_value,
                threshold=rule.threshold, calls=verdict.calls,
                window_start=span.start if span else None,
                window_end=span.end if span else None, coverage=verdict.coverage[:300],
                expected=verdict.detail.get("expected"), low=verdict.detail.get("low"),
                high=verdict.detail.get("high"), detail=verdict.detail, created_at=now,
                notify_status=NotifyStatus.SNOOZED if snoozed else NotifyStatus.PENDING)
    except IntegrityError:
        # The event of this change exists already (a reset state_seq): nothing to announce.
        log.warning("alert rule %s: event %s exists; not announced again", rule.pk,
                    rule.state_seq + 1)
        return None


@dataclasses.dataclass
class Outcome:
    rule: AlertRule
    verdict: Verdict
    event: AlertEvent | None

    def line(self) -> str:
        change = f" -> {self.event.state} (event {self.event.pk})" if self.event else ""
        return (f"{self.rule.pk} {self.rule.organization.slug} {self.rule.name!r} "
                f"[{self.rule.state}]{change}: {self.verdict.note}")


def rules_to_evaluate(environment_id: int | None = None, rule_id: int | None = None):
    rules = _rules().filter(enabled=True).select_related("organization", "team")
    if environment_id is not None:
        rules = rules.filter(environments=environment_id)
    if rule_id is not None:
        rules = rules.filter(pk=rule_id)
    return rules.prefetch_related("environments").order_by("pk")


def evaluate_rules(now: datetime | None = None, *, environment_id: int | None = None,
                   rule_id: int | None = None, dry_run: bool = False,
                   notify: bool = True) -> list[Outcome]:
    """Evaluate every enabled rule (or those over one environment, or one rule) once, then
    send what their changes owe. `dry_run` judges without recording or sending anything."""
    now = now or timezone.now()
    ctx = Context(now)
    outcomes = []
    for parent in _rules().filter(enabled=True, each_team=True):
        keep_children(parent)  # a fan-out rule: one child per team, judged below
    for rule in rules_to_evaluate(environment_id, rule_id):
        if rule.each_team:
            continue  # its children are judged, each as its team
        env_ids = [e.pk for e in rule.environments.all()]
        try:
            with as_team(rule) as restriction:
                verdict = judge(rule, ctx, team_environment_ids(rule, env_ids, restriction))
        except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the others
            log.exception("alert rule %s could not be evaluated", rule.pk)
            verdict = not_judged(f"error: {type(exc).__name__}")
        event = None if dry_run else transition(rule, verdict, now)
        outcomes.append(Outcome(rule, verdict, event))
    if notify and not dry_run:
        from reports.alerts.deliver import deliver_pending

        deliver_pending(now)
    return outcomes
