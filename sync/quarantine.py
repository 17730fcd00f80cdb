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
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from sync.models.quarantine import RejectedRecord
from sync.privacy import arrival
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
           upstream_id: Any = None, by_day: bool = False, by_payload: bool = False) -> None:
    """Keep `payload` (the record as sent) with `reason`; count it once on the run.

    `by_day` makes the day the record's identity (a callback stats day has no id),
    `by_payload` its bytes (the copies of one repeated id are each kept).
    """
    # An erased caller's number never reaches the quarantine either (sync.privacy.arrival).
    payload = arrival.scrub_rejected(ctx.environment, payload)
    reason = arrival.scrub_rejected(ctx.environment, reason)
    text = payload_text(payload)
    key = _digest(f"day:{day.isoformat()}") if by_day and day else \
        fingerprint(None if by_payload else upstream_id, text)
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


DUPLICATE_ID = "the same id appears {count} times in one page: no copy is trusted or written"


def _id_key(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


def repeated_ids(ids: Iterable[Any]) -> dict[str, int]:
    """id → copies, for the ids that appear more than once among `ids` (no id: not counted)."""
    counts = Counter(key for key in (_id_key(value) for value in ids) if key)
    return {key: n for key, n in counts.items() if n > 1}


def quarantine_repeated(ctx: RunContext, items: list[Any], id_of: Callable[[Any], Any],
                        repeated: dict[str, int], *,
                        day: date | Callable[[Any], date | None] | None = None) -> list[Any]:
    """The items whose id is not in `repeated` (id → copies in the whole page or answer);
    every copy of a repeated id is quarantined with the reason, so nothing of it is written."""
    if not repeated:
        return items
    kept = []
    with transaction.atomic():
        for item in items:
            key = _id_key(id_of(item))
            if key not in repeated:
                kept.append(item)
                continue
            when = day(item) if callable(day) else day
            reject(ctx, item, DUPLICATE_ID.format(count=repeated[key]), day=when,
                   upstream_id=id_of(item), by_payload=True)
    return kept


def note_duplicates(ctx: RunContext, repeated: Iterable[str]) -> None:
    """Name the repeated ids on the run ("duplicate_ids", bounded)."""
    if repeated:
        ctx.note("duplicate_ids", ", ".join(shown_id(key) for key in sorted(repeated))[:500])


def drop_duplicates(ctx: RunContext, items: list[Any], id_of: Callable[[Any], Any], *,
                    day: date | Callable[[Any], date | None] | None = None) -> list[Any]:
    """The items of one page whose id appears once in it; every copy of a repeated id is
    quarantined with the reason, so the mirrored call keeps its last good values.

    Two records under one id in a page cannot both be the call: whichever was written last
    would silently overwrite the other (three mirrored calls once took another call's status,
    numbers and start this way). The dropped id is then missing from what the page delivered,
    so a stream that checks a day's ids against its total reads the day again. `day` is the
    page's day, or a function giving each record's.
    """
    repeated = repeated_ids(id_of(item) for item in items)
    if not repeated:
        return items
    kept = quarantine_repeated(ctx, items, id_of, repeated, day=day)
    note_duplicates(ctx, repeated)
    return kept


def clear(ctx: RunContext, **where: Any) -> int:
    """Delete this stream's rejections matching `where` that this run did not reject again."""
    deleted, _ = (RejectedRecord.objects
                  .filter(environment=ctx.environment, stream=ctx.stream, **where)
                  .exclude(run=ctx.run).delete())
    return deleted
