"""What every provider's `records` module shares: the Call and Agent columns an upsert
updates, and `Rejected` (from `validation`, re-exported here) for a record that cannot be
stored. Field parsing lives in `validation` alone (one parser per kind of field, one rule).
"""
from __future__ import annotations

from sync.providers.validation import Rejected

CALL_UPDATE_FIELDS = [
    "sid", "agent", "agent_external_id", "to_number", "to_formatted", "from_number",
    "from_formatted", "direction", "status", "provider_status", "duration", "is_testing",
    "started_at", "upstream_updated_at", "raw", "payload_hash", "last_changed_at",
    "contact_excluded",
]
AGENT_UPDATE_FIELDS = [
    "name", "label", "description", "language", "direction", "current_status", "is_sandbox",
    "is_callback", "source_agent_ids", "raw", "payload_hash", "upstream_created_at",
    "upstream_updated_at", "last_seen_at",
]
__all__ = ["AGENT_UPDATE_FIELDS", "CALL_UPDATE_FIELDS", "Rejected"]
