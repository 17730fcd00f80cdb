"""What the demo adds on the reading side so every feature has something to show
(`sync.signals.demo_prepared`, sent by `manage.py demo` once its environments are mirrored):
an anomaly rule over the environments the simulator's volume dip thins, whose preview finds
the dip (idempotent: a second run finds the rule by name); and a line on the KPIs page's
story: the vendors' success rate, how far the transfer and voicemail rates move, the agent
whose "successful" calls come back most, and the calls whose analysis is still to come."""
from __future__ import annotations

from datetime import timedelta

from django.dispatch import receiver
from django.utils import timezone

from portal.models import Environment, Organization
from reports.alerts.models import AlertRule, default_min_calls
from reports.alerts.preview import firings
from reports.queries.kpis import kpis_summary
from sync.models import Agent, Call
from sync.signals import demo_prepared

RULE_NAME = "Calls below the usual"


@receiver(demo_prepared)
def add_anomaly_rule(sender, organization: Organization, environments: list[Environment],
                     **kwargs) -> list[str]:
    """`environments`: those the simulator's dip thins (the command knows which)."""
    dipped = list(environments)
    if not dipped:
        return []
    rule = AlertRule.objects.for_organization(organization).filter(name=RULE_NAME).first()
    if rule is None:
        rule = AlertRule.objects.create(
            organization=organization, name=RULE_NAME, metric="calls", window="1h",
            condition="anomaly", anomaly_direction="below", sensitivity="medium",
            threshold=0, min_calls=default_min_calls("calls", "anomaly"), severity="warning")
    rule.environments.set(dipped)
    now = timezone.now()
    today = timezone.localtime(now, organization.tzinfo).date()
    found = firings(rule, tuple(e.pk for e in dipped), today - timedelta(days=13), today,
                    now)
    times = "1 time" if len(found) == 1 else f"{len(found)} times"
    # The hours on the organisation's wall clock, its zone named (the firing's own words).
    first = (f", first {found[0]['start'][:16].replace('T', ' ')}–{found[0]['end'][11:16]} "
             f"({organization.timezone})" if found else "")
    return [f"Anomaly rule “{RULE_NAME}”: over the last two weeks it would have fired "
            f"{times}{first}"]


@receiver(demo_prepared)
def describe_kpis(sender, organization: Organization, **kwargs) -> list[str]:
    """One line on the last four weeks' KPIs (`reports.queries.kpis`)."""
    envs = list(Environment.objects.for_organization(organization)
                .select_related("organization"))
    if not envs:
        return []
    today = timezone.localtime(timezone.now(), organization.tzinfo).date()
    summary = kpis_summary(envs, today - timedelta(days=27), today, "week")
    t = summary.totals

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    def spread(key: str) -> str:
        values = [getattr(r, key) for r in summary.series if getattr(r, key) is not None]
        return f"{pct(min(values))}–{pct(max(values))}" if values else "–"

    judged = [a for a in summary.agents if a.succeeded_then_repeat_rate is not None]
    worst = max(judged, key=lambda a: a.succeeded_then_repeat_rate, default=None)
    names = dict(Agent.objects.filter(environment__in=envs).values_list("external_id", "name"))
    judging = [e for e in envs if "judgement" not in e.spec.not_sent]
    waiting = Call.objects.filter(environment__in=judging, status="completed", judgement="",
                                  summary="").count()
    line = (f"KPIs: success rate {pct(t.success_rate)}, transfer rate by week "
            f"{spread('transfer_rate')}, voicemail {spread('voicemail_rate')}")
    if worst is not None:
        line += (f"; “{names.get(worst.agent_external_id, worst.agent_external_id)}”'s "
                 f"successful calls came back {pct(worst.succeeded_then_repeat_rate)}")
    return [line + f"; {waiting} ended calls still await their vendor's analysis"]
