"""The one search rule over calls: the explorer, the compatible listing and the report queries.

A user searches with what a page or a client shows them: a call's SID or id, whole or cut
(the explorer's table shows `CA9ff1b856ccf…`), or a phone number however it is written
(`+55 11 9…`, `(123) 456-7890`). The rule:

- the needle (trimmed, a trailing "…" as the table prints it dropped) is matched as written,
  case-insensitively, against any part of the SID and of both numbers;
- a needle written only with what phone numbers are written with (digits, `+ ( ) - . `)
  also matches the numbers by its digits alone, so the stored E.164 number is found;
- the call id is matched by any part too (`CALL_ID_PARTS`), or exactly (`CALL_ID_EXACT`):
  Talkover documents its `search` as "phone numbers or call SID", so the compatible listing
  keeps the id to an exact match and answers as Talkover does for everything else.

Nothing else: digits are never pulled out of a needle that is not a phone number, so an ID
with digit runs in it finds its call and not a phone number that shares the digits, and a
needle that is neither (`zzzz999`) finds nothing. Each condition is a `LIKE '%…%'` that a
trigram GIN index answers on PostgreSQL (sync migrations 0007_h21, 0011_h26a).
"""
from __future__ import annotations

import re
from enum import Enum

from django.db.models import Q

# Longest needle a search form or the compatible API accepts.
MAX_SEARCH = 100
# A needle made only of what phone numbers are written with is matched on its digits.
_PHONE = re.compile(r"[0-9+()\-. ]*[0-9][0-9+()\-. ]*")
# What the explorer's table appends to an ID it cuts (and its ASCII spelling).
_CUT_MARKS = ("…", "...")


class CallId(Enum):
    """How the call id itself is matched (the SID and the numbers always by any part)."""

    PARTS = "parts"
    EXACT = "exact"


CALL_ID_PARTS, CALL_ID_EXACT = CallId.PARTS, CallId.EXACT


def clean_needle(raw: str | None) -> str:
    """The needle as it is matched: trimmed, without the cut mark the table adds."""
    needle = (raw or "").strip()
    for mark in _CUT_MARKS:
        if needle.endswith(mark):
            needle = needle[: -len(mark)].rstrip()
    return needle


def phone_digits(needle: str) -> str:
    """The digits of a phone-number-shaped needle; "" for anything else."""
    if not _PHONE.fullmatch(needle):
        return ""
    return "".join(ch for ch in needle if ch.isdigit())


def search_q(raw: str | None, call_id: CallId = CALL_ID_PARTS) -> Q | None:
    """The condition of the calls a needle finds; None when the needle is empty (no filter)."""
    needle = clean_needle(raw)
    if not needle:
        return None
    q = (Q(sid__icontains=needle) | Q(to_number__contains=needle)
         | Q(from_number__contains=needle))
    q |= (Q(external_id__icontains=needle) if call_id is CALL_ID_PARTS
          else Q(external_id=needle))
    digits = phone_digits(needle)
    if digits and digits != needle:
        q |= Q(to_number__contains=digits) | Q(from_number__contains=digits)
    return q


def search_calls(queryset, raw: str | None, call_id: CallId = CALL_ID_PARTS):
    """`queryset` narrowed to the calls `raw` finds (unchanged when it is empty)."""
    q = search_q(raw, call_id)
    return queryset if q is None else queryset.filter(q)
