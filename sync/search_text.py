"""The calls' joined search text, as the search's GIN index holds it, and exact SID lookups
through that index (PostgreSQL; sync migration 0001_mirror_and_partitioned_calls).

Why here: the search (`reports.call_search`) and the sync's own SID lookups (the admin's
exact search, webhook hints that name only a SID) read the same index, which leads with
the environment: `call_env_search_gin` (environment_id, trigrams of `SearchText`,
transcript words). There is no (environment, sid) btree (each index is paid for on
every call a back-fill writes), so an exact SID is found by its last `SID_CORE` characters'
trigrams in that index and then compared whole. The expression must stay the index's
(`SEARCH_TEXT` of the migrations): the planner matches it only when the query compiles to
the same expression.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BigIntegerField, BooleanField, F, Func, Q, TextField, Value
from django.db.models.functions import Cast
from django.db.models.lookups import Contains

# A SID is looked up in the trigram index by its last SID_CORE characters: every trigram of
# its core costs a posting list (at 1M calls a whole SID's 32 trigrams took 16 ms, 12
# characters 2.4 ms and 8 characters 1.9 ms for the explorer's 90 days), and 8 random hex
# characters (32 bits) still leave no other row of a month among the candidates.
SID_CORE = 8


def narrows_alone(core: str) -> bool:
    """Whether a core's trigrams alone narrow a month to its few rows, whoever's: SID_CORE
    characters or more, letters and digits mixed, as in a SID or an id (whole or cut). A
    word or a run of digits that long can be in many calls of other tenants (\"anonymous\",
    a shared area code)."""
    return (len(core) >= SID_CORE and any(ch.isdigit() for ch in core)
            and any(ch.isalpha() for ch in core))


class SearchText(Func):
    """The searched fields joined and upper-cased: the GIN index's expression."""

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("sid"), F("external_id"), F("to_number"), F("from_number"))


def environment_q(ids: Iterable[int], cores: Iterable[str] = ()) -> Q:
    """Calls of these environments; `cores`: what the search index is asked for with them
    (none: no search).

    Why: `environment_id` is a bigint, and a plain integer constant compares through the
    cross-type operator `bigint = integer`, which `btree_gin`'s operator class (PostgreSQL
    15) does not hold: the search index would read every tenant's postings of the month and
    leave the environment to a filter on the rows. Typed as the column, the environment is a
    condition of the same GIN scan (a 100k-call tenant's search sharing a month with 500k
    calls of others: median 34 ms with it as a filter, 22 ms in the scan, 10 ms alone;
    docs/partitioning.md). The btree indexes serve it either way.

    Except when every core narrows alone (`narrows_alone`: a SID or an id whole or cut as
    the explorer's table shows it): its trigrams narrow a month to its few rows, whoever's,
    and reading the environment's postings beside them cost more than the rest of the scan
    (an environment holding every call of a month: 110 index pages against 49 per month,
    3-4.6 ms against 1.5-2 for the explorer's cut-SID search at 1M calls; with 8-character
    cores 3.6 ms against 1.9). The ids are then plain integers, so the environment is
    checked on those few rows only.
    """
    ids = [int(pk) for pk in dict.fromkeys(ids)]
    cores = list(cores)
    if cores and all(narrows_alone(core) for core in cores):
        return Q(environment_id__in=ids)
    if len(ids) == 1:
        return Q(environment_id=Cast(Value(ids[0]), BigIntegerField()))
    return Q(_EnvironmentIn(ids))


class _EnvironmentIn(Func):
    """`environment_id = ANY(<ids>::bigint[])` (PostgreSQL): a bigint array, as above."""

    output_field = BooleanField()

    def __init__(self, ids: list[int]) -> None:
        super().__init__(F("environment_id"))
        self.ids = ids

    def as_sql(self, compiler, connection, **extra):  # noqa: ANN001, ANN201 - Django's API
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} = ANY(%s::bigint[])", [*params, self.ids]


def sid_q(sids: Iterable[str], environment_ids: Iterable[int]) -> Q:
    """Calls of these environments whose SID is one of `sids`, narrowed through the search
    index first (one bitmap scan per month). No SID or no environment: no call."""
    wanted = sorted({s for s in sids if s})
    environment_ids = list(environment_ids)
    if not wanted or not environment_ids:
        return Q(pk__in=[])
    candidates = Q()
    cores = [sid.upper()[-SID_CORE:] for sid in wanted]
    for core in cores:
        candidates |= Q(Contains(SearchText(), core))
    return environment_q(environment_ids, cores) & candidates & Q(sid__in=wanted)
