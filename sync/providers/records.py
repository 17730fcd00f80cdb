"""Record helpers every provider shares: timestamps, column-safe text, rejections, fields.

Pure functions, no queries: a provider's `records` module turns one upstream record into a
row with these, and raises `Rejected` (from `validation`, re-exported here) for a record
that cannot be stored.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from sync.providers.validation import Rejected

CALL_UPDATE_FIELDS = [
    "sid", "agent", "agent_external_id", "to_number", "to_formatted", "from_number",
    "from_formatted", "direction", "status", "provider_status", "duration", "is_testing",
    "started_at", "upstream_updated_at", "raw", "payload_hash", "last_changed_at",
]
AGENT_UPDATE_FIELDS = [
    "name", "label", "description", "language", "direction", "current_status", "is_sandbox",
    "is_callback", "source_agent_ids", "raw", "payload_hash", "upstream_created_at",
    "upstream_updated_at", "last_seen_at",
]
__all__ = ["AGENT_UPDATE_FIELDS", "CALL_UPDATE_FIELDS", "Rejected", "text", "when"]


def when(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (naive ones are UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)  # C-fast; Python 3.11 reads "…Z" too
    except ValueError:
        try:
            moment = parse_datetime(value)
        except ValueError:
            return None
        if moment is None:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def text(value: Any, limit: int) -> str:
    """A column-safe string: None becomes "", long values are cut to the column size."""
    return "" if value is None else str(value)[:limit]
