"""Talkover's pagination block, written by both faces that answer as Talkover does: the
built-in simulator (`sync.providers.talkover.simulator.api`) and our compatible API
(`reports.talkover.listing`). One definition, so the two never disagree on it."""
from __future__ import annotations

import math


def pagination(page: int, per_page: int, total: int, shown: int) -> dict:
    """Laravel's pagination block: `from`/`to` are null on an empty page."""
    offset = (page - 1) * per_page
    return {
        "current_page": page,
        "last_page": max(1, math.ceil(total / per_page)),
        "per_page": per_page,
        "total": total,
        "from": offset + 1 if shown else None,
        "to": offset + shown if shown else None,
    }
