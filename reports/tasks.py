"""Celery tasks of the reporting side (routed to the `email` queue by `reports.*`)."""
from __future__ import annotations

from celery import shared_task

from reports.alerts.tasks import evaluate_alerts
from reports.summaries.dispatch import dispatch

# The alerts' task lives with the alerts; named here so the worker (which autodiscovers this
# module) registers it.
__all__ = ["evaluate_alerts", "send_due_summaries"]


@shared_task(name="reports.send_due_summaries", ignore_result=True)
def send_due_summaries() -> dict[str, int]:
    """Claim and send every due summary; safe to run from several workers at once."""
    result = dispatch()
    return {"claimed": result.claimed, **result.statuses}
