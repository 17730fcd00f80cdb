"""Evaluate the rules over an environment after each sync of it (connected in apps.py)."""
from __future__ import annotations

import logging

from django.dispatch import receiver

from portal.tasks_client import QueueUnavailable, TaskNotAvailable, enqueue
from reports.alerts.models import AlertRule
from sync.signals import environment_synced

log = logging.getLogger(__name__)


@receiver(environment_synced, dispatch_uid="reports.alerts.evaluate_after_sync")
def evaluate_after_sync(sender, environment, outcome, **kwargs) -> bool:
    """Queue `reports.evaluate_alerts` for this environment when a rule watches it.

    Queued, not run here: the sync's worker goes on with the next environment, and the
    evaluation runs on the `email` queue with the other notifications.
    """
    if not AlertRule.objects.for_organization(environment.organization_id).filter(
            enabled=True, environments=environment.pk).exists():
        return False
    try:
        enqueue("reports.evaluate_alerts", environment_id=environment.pk)
    except (TaskNotAvailable, QueueUnavailable, OSError) as exc:
        # The beat tick evaluates again within minutes; a broker hiccup must not fail a sync.
        log.warning("could not queue alert evaluation for environment %s: %s",
                    environment.pk, exc)
        return False
    return True
