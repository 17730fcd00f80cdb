"""How a Talkover call record is stored (`sync.stored_record`): its keys the row's columns give
back exactly (`records.talkover_call` fills them), in an order that never changes."""
from __future__ import annotations

from sync.stored_record import BOOL, INT, MOMENT, TEXT

NAME = "talkover/1"
FIELDS = (
    ("id", "external_id", TEXT), ("sid", "sid", TEXT), ("to", "to_number", TEXT),
    ("to_formatted", "to_formatted", TEXT), ("from", "from_number", TEXT),
    ("from_formatted", "from_formatted", TEXT), ("direction", "direction", TEXT),
    ("status", "status", TEXT), ("duration", "duration", INT),
    ("is_testing", "is_testing", BOOL), ("created_at", "started_at", MOMENT),
    ("updated_at", "upstream_updated_at", MOMENT),
)
