"""How a Talkover call record is stored (`sync.stored_record`): its keys the row's columns give
back exactly (`records.talkover_call` fills them), in an order that never changes."""
from __future__ import annotations

from sync.stored_record import BOOL, INT, MOMENT, TEXT

# The record's own keys: the first form, which rows written before the agent's id was left
# out still hold.
_FIRST = (
    ("id", "external_id", TEXT), ("sid", "sid", TEXT), ("to", "to_number", TEXT),
    ("to_formatted", "to_formatted", TEXT), ("from", "from_number", TEXT),
    ("from_formatted", "from_formatted", TEXT), ("direction", "direction", TEXT),
    ("status", "status", TEXT), ("duration", "duration", INT),
    ("is_testing", "is_testing", BOOL), ("created_at", "started_at", MOMENT),
    ("updated_at", "upstream_updated_at", MOMENT),
)
EARLIER = {"talkover/1": _FIRST}
# And the agent's id, which `agent_external_id` holds: a third of what was left in `raw`.
NAME = "talkover/2"
FIELDS = (*_FIRST, ("agent.id", "agent_external_id", TEXT))
