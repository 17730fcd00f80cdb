"""What the demo adds on the reading side so every feature has something to show
(`sync.signals.demo_prepared`, sent by `manage.py demo` once its environments are mirrored):
an anomaly rule over the environments the simulator's volume dip thins, whose preview finds
the dip. Idempotent: a second run finds the rule by name."""
from __future__ import annotations

from datetime import timedelta

from django.dispatch import receiver
from django.utils import timezone

from portal.models import Environment, Organization
from reports.alerts.models import AlertRule, default_min_calls
from reports.alerts.preview import firings
from sync.signals import demo_prepared

RULE_NAME = "Calls below the usual"


@receiver(demo_prepared)
def add_anomaly_rule(sender, organization: Organization, environments: list[Environment],
                     **kwargs) -> list[str]:
    """`environments`: those the simulator's dip thins (the command knows which)."""
    talkover = list(environments)
    if not talkover:
        return []
    rule = AlertRule.objects.for_organization(organization).filter(name=RULE_NAME).first()
    if rule is None:
        rule = AlertRule.objects.create(
            organization=organization, name=RULE_NAME, metric="calls", window="1h",
            condition="anomaly", anomaly_direction="below", sensitivity="medium",
            threshold=0, min_calls=default_min_calls("calls", "anomaly"), severity="warning")
    rule.environments.set(talkover)
    now = timezone.now()
    today = timezone.localtime(now, organization.tzinfo).date()
    found = firings(rule, tuple(e.pk for e in talkover), today - timedelta(days=13), today,
                    now)
    times = "1 time" if len(found) == 1 else f"{len(found)} times"
    # The hours on the organisation's wall clock, its zone named (the firing's own words).
    first = (f", first {found[0]['start'][:16].replace('T', ' ')}–{found[0]['end'][11:16]} "
             f"({organization.timezone})" if found else "")
    return [f"Anomaly rule “{RULE_NAME}”: over the last two weeks it would have fired "
            f"{times}{first}"]
