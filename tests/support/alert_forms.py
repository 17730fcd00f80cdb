"""The settings form's fields of a "minutes since the last sync" rule, for tests that post it."""
from __future__ import annotations

from portal.models import Environment


def health_rule_form(env: Environment, **fields: object) -> dict:
    data = {"name": "Stale", "environments": [env.pk], "metric": "minutes_since_sync",
            "window": "day", "condition": "above", "threshold": "30", "min_calls": "20",
            "compare_to": "", "severity": "warning", "language": "en",
            "webhook_format": "json", "enabled": "on", "agent_id": ""}
    data.update(fields)
    return data
