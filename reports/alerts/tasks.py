"""The Celery task that evaluates alert rules (beat tick and after each sync)."""
from __future__ import annotations

from celery import shared_task

from reports.alerts.evaluate import evaluate_rules


@shared_task(name="reports.evaluate_alerts", ignore_result=True)
def evaluate_alerts(environment_id: int | None = None) -> dict[str, int]:
    """Evaluate every enabled rule (or those over one environment) and send what changed.

    Safe to run from several workers at once: changes and notifications are claimed with
    conditional UPDATEs.
    """
    outcomes = evaluate_rules(environment_id=environment_id)
    return {"rules": len(outcomes), "changes": sum(1 for o in outcomes if o.event)}
