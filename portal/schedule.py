"""Every Celery beat entry, in one place. Each has a comment and an expiry.

An expiry shorter than the period means a tick that could not run in time (workers down or
busy) is dropped instead of piling up: the next tick does the same work.
"""
from __future__ import annotations

from celery.schedules import crontab

from portal.envconfig import env_str

# How often sync.dispatch runs (SYNC_DISPATCH_SECONDS; tests scale it down).
DISPATCH_SECONDS = max(2.0, float(env_str("SYNC_DISPATCH_SECONDS", "60")))

BEAT_SCHEDULE = {
    # Enqueue syncs for due environments, the longest due first, a bounded batch per queue.
    "sync-dispatch": {
        "task": "sync.dispatch",
        "schedule": DISPATCH_SECONDS,
        "options": {"expires": DISPATCH_SECONDS * 11 / 12, "queue": "sync"},
    },
    # Claim and send due report summaries (exactly once per subscription and period).
    "send-due-summaries": {
        "task": "reports.send_due_summaries",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 280, "queue": "email"},
    },
    # Evaluate every enabled alert rule and send the notifications their changes owe
    # (exactly once per change; syncs also queue an evaluation of their environment).
    "evaluate-alerts": {
        "task": "reports.evaluate_alerts",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240, "queue": "alerts"},
    },
    # PostgreSQL call partitions (sync/partitions/ddl.py, sync/partitions/retention.py): create
    # the months
    # ahead, finish organisations' retention moves, drop months a tier no longer keeps; then
    # anonymise the personal data older than an owner's per-kind retention (sync/privacy/).
    # Daily; a missed day is harmless (months are created CALL_PARTITIONS_AHEAD ahead).
    "maintain-call-partitions": {
        "task": "sync.maintain_partitions",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 6 * 3600, "queue": "backfill"},
    },
}
