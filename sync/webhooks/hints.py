"""What a delivery hints at: the call it announces, so a round reads that call, not everything.

A delivery's body is never data (Talkover documents neither its payload nor its signature
header), but once its signature holds, the call id it names is a fair *hint* of what to read:
the next webhook round reads that call through the API (where it now sits, or by SID) and
today's head page, instead of every open call's status listing. A hint that names nothing,
or names a call the round cannot place, costs nothing more than a round without hints did:
a round whose events carried no usable hint refreshes the hot days as the schedule does.

Hints wait in the cache, numbered per environment (`cache.incr`: atomic on Redis and on the
database cache), until a round takes them all; they expire after `HINT_SECONDS`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

HINT_SECONDS = 600
# More pending hints than this and a round reads the hot days whole-heartedly instead.
MAX_HINTS = 400
# A call id or SID as Talkover writes them: short, printable, no spaces.
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,255}")
BLIND = "-"  # an event that named no call


@dataclass(frozen=True)
class Hint:
    """A call a delivery named: its upstream id and/or SID ("" when not given)."""

    id: str = ""
    sid: str = ""
    tries: int = 0

    def encode(self) -> str:
        return json.dumps([self.id, self.sid, self.tries])


def _text(value: Any) -> str:
    return value if isinstance(value, str) and _ID.fullmatch(value) else ""


def parse(body: bytes) -> Hint | None:
    """The call a (signed) body names, if any: `call_id` / `call_sid`, or `call: {id, sid}`,
    at the top or under `data`. Anything else is no hint."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    for holder in (data, data.get("data") if isinstance(data, dict) else None):
        if not isinstance(holder, dict):
            continue
        call = holder.get("call") if isinstance(holder.get("call"), dict) else {}
        hint = Hint(_text(holder.get("call_id")) or _text(call.get("id")),
                    _text(holder.get("call_sid")) or _text(call.get("sid")))
        if hint.id or hint.sid:
            return hint
    return None


def _counter(env_id: int) -> str:
    return f"sync:hook:hints:{env_id}:n"


def _taken(env_id: int) -> str:
    return f"sync:hook:hints:{env_id}:taken"


def entry_key(env_id: int, number: int) -> str:
    """The cache key of an environment's `number`th hint (numbered from 1 by `push`)."""
    return f"sync:hook:hints:{env_id}:{number}"


def push(env_id: int, hint: Hint | None) -> None:
    """Keep a delivery's hint (None: an event that named no call) for the next round."""
    cache.add(_counter(env_id), 0, timeout=None)
    number = cache.incr(_counter(env_id))
    cache.set(entry_key(env_id, number), hint.encode() if hint else BLIND,
              timeout=HINT_SECONDS)


def pending(env_id: int) -> bool:
    """Whether some delivery came since the last take (one cache round trip)."""
    found = cache.get_many([_counter(env_id), _taken(env_id)])
    return (found.get(_counter(env_id)) or 0) > (found.get(_taken(env_id)) or 0)


def take(env_id: int) -> tuple[list[Hint], bool]:
    """(the hints since the last take, whether some event named no call or too many came).

    Taken once: a round that cannot place a hint pushes it back (`tries` + 1)."""
    last = cache.get(_counter(env_id)) or 0
    first = (cache.get(_taken(env_id)) or 0) + 1
    if last < first:
        return [], False
    cache.set(_taken(env_id), last, timeout=None)
    if last - first + 1 > MAX_HINTS:
        return [], True
    keys = [entry_key(env_id, n) for n in range(first, last + 1)]
    found = cache.get_many(keys)
    cache.delete_many(keys)
    hints, blind = [], len(found) < len(keys)  # an expired hint: its call is unknown
    for value in found.values():
        if value == BLIND:
            blind = True
            continue
        try:
            call_id, sid, tries = json.loads(value)
            hints.append(Hint(str(call_id), str(sid), int(tries)))
        except (ValueError, TypeError):
            blind = True
    return hints, blind
