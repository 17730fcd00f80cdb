"""Quarantine: keep a rejected upstream record whole with its reason, and let it go when a
later run reads it in a storable shape.

Streams call `reject` for each record their shape module refuses (inside the page's
transaction, so the row and the cursor agree) and `clear` once they have read again the
part of the upstream a rejection belonged to (a day, an agent list, a whole history): what
this run did not reject again there has been corrected or removed upstream.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import date
from typing import Any

from django.utils import timezone

from sync.quarantine_models import RejectedRecord
from sync.run_context import RunContext

logger = logging.getLogger("sync.quarantine")


def _digest(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def payload_text(payload: Any) -> str:
    """The record as JSON with ASCII escapes (NUL and controls become \\u00XX)."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=True, default=str)


def shown_id(value: Any) -> str:
    """An upstream id as it can be shown and stored (escaped, at most 255 characters)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    shown = json.dumps(str(value), ensure_ascii=True)[1:-1]
    return shown if len(shown) <= 255 else shown[:254] + "…"


def fingerprint(upstream_id: Any, text: str) -> str:
    """What makes two rejections the same record: its id, else its bytes."""
    if isinstance(upstream_id, str | int) and not isinstance(upstream_id, bool) \
            and str(upstream_id):
        return _digest(f"id:{upstream_id}")
    return _digest(f"payload:{text}")


def reject(ctx: RunContext, payload: Any, reason: str, *, day: date | None = None,
           upstream_id: Any = None, by_day: bool = False) -> None:
    """Keep `payload` (the record as sent) with `reason`; count it once on the run.

    `by_day` makes the day the record's identity (a callback stats day has no id).
    """
    text = payload_text(payload)
    key = _digest(f"day:{day.isoformat()}") if by_day and day else \
        fingerprint(upstream_id, text)
    now = timezone.now()
    RejectedRecord.objects.update_or_create(
        environment=ctx.environment, stream=ctx.stream, fingerprint=key,
        defaults={"day": day, "upstream_id": shown_id(upstream_id), "payload": text,
                  "reason": reason[:500], "last_seen_at": now, "run": ctx.run},
        create_defaults={"day": day, "upstream_id": shown_id(upstream_id), "payload": text,
                         "reason": reason[:500], "first_seen_at": now, "last_seen_at": now,
                         "run": ctx.run})
    if ctx.count_rejected(key):
        logger.warning("environment %s stream %s: record %s rejected: %s",
                       ctx.environment.pk, ctx.stream, shown_id(upstream_id) or "-", reason)


def clear(ctx: RunContext, **where: Any) -> int:
    """Delete this stream's rejections matching `where` that this run did not reject again."""
    deleted, _ = (RejectedRecord.objects
                  .filter(environment=ctx.environment, stream=ctx.stream, **where)
                  .exclude(run=ctx.run).delete())
    return deleted
