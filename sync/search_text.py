"""The calls' joined search text, as the search's GIN index holds it, and exact SID lookups
through that index (PostgreSQL; sync migrations 0017 and 0019_h44s).

Why here: the search (`reports.call_search`) and the sync's own SID lookups (the admin's
exact search, webhook hints that name only a SID) read the same index, which leads with
the environment: `call_env_search_gin` (environment_id, trigrams of `SearchText`,
transcript words). The (environment, sid) btree went with issue 44 (each index is paid for on
every call a back-fill writes), so an exact SID is found by its last `SID_CORE` characters'
trigrams in that index and then compared whole. The expression must stay the index's
(`SEARCH_TEXT` of the migrations): the planner matches it only when the query compiles to
the same expression.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Func, Q, TextField
from django.db.models.lookups import Contains

# A SID is looked up in the trigram index by its last SID_CORE characters (every trigram of
# a whole SID costs a posting list; 12 characters were 2 ms against 16 at 1M calls).
SID_CORE = 12


class SearchText(Func):
    """The searched fields joined and upper-cased: the GIN index's expression."""

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("sid"), F("external_id"), F("to_number"), F("from_number"))


def sid_q(sids: Iterable[str]) -> Q:
    """Calls whose SID is one of `sids`, narrowed through the search index first (with the
    environment in the same query, one bitmap scan per month). Empty `sids`: no call."""
    wanted = sorted({s for s in sids if s})
    if not wanted:
        return Q(pk__in=[])
    candidates = Q()
    for sid in wanted:
        candidates |= Q(Contains(SearchText(), sid.upper()[-SID_CORE:]))
    return candidates & Q(sid__in=wanted)
