"""The one search rule over calls: the explorer, the compatible listing and the report queries.

A user searches with what a page or a client shows them: a call's SID or id, whole or cut
(the explorer's table shows `CA9ff1b856ccf…`), or a phone number however it is written
(`+55 11 9…`, `(123) 456-7890`). The rule:

- the needle (trimmed, a trailing "…" as the table prints it dropped) is matched,
  case-insensitively, against any part of the SID and of the call id;
- a needle written only with what phone numbers are written with (digits, `+ ( ) - . `)
  matches the numbers by its digits alone, so the stored E.164 number is found however it is
  written; one holding `+`, a space or a parenthesis is such a number and nothing else (no
  SID or id holds those); any other needle matches the numbers as written;
- the call id is matched by any part (`CALL_ID_PARTS`), or exactly (`CALL_ID_EXACT`):
  Talkover documents its `search` as "phone numbers or call SID", so the compatible listing
  keeps the id to an exact match and answers as Talkover does for everything else.

A needle that is not a phone number also finds the calls whose summary (the vendor's analysis,
`Call.summary`) holds its words (full-text, 'simple' configuration, through the partial GIN
index `call_env_summary_fts`), except on the compatible listing (Talkover's `search` is numbers
and SIDs only).

Nothing else: digits are never pulled out of a needle that is not a phone number, so an ID
with digit runs in it finds its call and not a phone number that shares the digits, and a
needle that is neither (`zzzz999`) finds nothing.

How it is answered:

- one GIN index (`call_env_search_gin`, made by the sync migration: the environment
  first, then the trigrams of the four searched fields joined and upper-cased,
  `SearchText`), so a search reads one index per month partition, and only its own
  environments' postings there, whatever other tenants hold and whatever it
  matches (four per-field indexes cost 28 scans and 93 ms for the explorer's 180 days at 1M
  calls). A needle whose cores narrow alone (`index_cores`, `sync.search_text.narrows_alone`:
  a SID or id, whole or cut) is narrowed by its trigrams alone, the environment checked on
  the few rows they find (`sync.search_text.environment_q` says why). The candidates are
  the rows whose joined text holds the needle's *core*; each field's own rule is checked on
  those rows only. A row a field's rule finds is always a candidate (a field's text,
  upper-cased, lies in the joined text), so the candidates only narrow, never decide;
- numbers are E.164 (`+5511987654321`), so a phone-shaped needle is looked up by its digits.
  A long run of digits is looked up by its last `CORE_DIGITS` (the subscriber's part; a
  country or area code is in nearly every number, and intersecting those posting lists took
  300 ms at 1M calls), a long SID or id by its last `SID_CORE` characters (every trigram
  costs a posting list: `sync.search_text.SID_CORE`);
- a needle whose core is shorter than a trigram (`MIN_PROBED`) narrows nothing through the
  index: its rule is applied as it is;
- the matching calls are found first, through that index only (`_matching_rows`: on
  PostgreSQL with plain index and sequential scans switched off for that one statement),
  and the page then asks for those ids. Left to itself the planner guessed hundreds of
  matches for a SID, walked the newest-first index of the whole period row by row to find
  the one call, and took seconds. A needle that matches more than `PROBE` calls is common
  enough for the newest-first walk to meet its calls at once: it is applied as it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from django.db import connections, transaction
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.lookups import Contains

from sync.search_text import SID_CORE, SearchText  # the GIN index's expression

# Longest needle a search form or the compatible API accepts.
MAX_SEARCH = 100
# A needle made only of what phone numbers are written with is matched on its digits.
_PHONE = re.compile(r"[0-9+()\-. ]*[0-9][0-9+()\-. ]*")
# What only a number written for people holds (a SID or an id never does).
_WRITTEN_NUMBER = re.compile(r"[+() ]")
# What the explorer's table appends to an ID it cuts (and its ASCII spelling).
_CUT_MARKS = ("…", "...")
# A longer run of digits (or longer text) is looked up in the trigram index by its last
# CORE_DIGITS (SID_CORE) only; each field's rule then checks it whole.
CORE_DIGITS = 7
# At most this many matching calls are listed by id; a needle matching more is applied as is.
PROBE = 2000
# A shorter core makes no trigram: the index cannot narrow it, so the rule is applied as is.
MIN_PROBED = 3
# The plans the id probe may not use: only the trigram indexes' bitmap scans answer it.
PROBE_PLANS_OFF = ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan")


# A whole call identifier: a Talkover SID ("CA" + 32 hex) or a UUID (both providers' ids).
_WHOLE_ID = re.compile(r"CA[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                       r"[0-9a-f]{12}", re.IGNORECASE)


def is_whole_id(raw: str | None) -> bool:
    """Whether the needle is one whole SID or UUID: it names one call, so the explorer
    looks for it over every date rather than answer "0 calls" outside the period."""
    return bool(_WHOLE_ID.fullmatch(clean_needle(raw)))


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
    digits = phone_digits(needle)
    numbers = _number_q("to_number", needle, digits) | _number_q("from_number", needle, digits)
    if _WRITTEN_NUMBER.search(needle):  # "+55 (11) 9…": a number as written, never an ID
        found = _candidates(_cores(needle, digits)) & numbers
    else:
        ids = Q(sid__icontains=needle) | (
            Q(external_id__icontains=needle) if call_id is CALL_ID_PARTS
            else Q(external_id=needle))
        found = _candidates(_cores(needle, digits)) & (ids | numbers)
    if call_id is CALL_ID_PARTS and not digits:  # words: a summary's too
        found |= summary_q(needle)
    return found


class SummaryHas(Func):
    """The summary's words hold the needle's (the expression of `call_env_summary_fts`)."""

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    arg_joiner = ") @@ plainto_tsquery('simple'::regconfig, "
    output_field = BooleanField()


def summary_q(needle: str) -> Q:
    """The calls whose summary holds the needle's words (the partial index's rows only)."""
    return ~Q(summary="") & Q(SummaryHas(F("summary"), Value(needle)))


def _cores(needle: str, digits: str) -> set[str]:
    """What the trigram index is asked for: the numbers' core (a phone-shaped needle's last
    CORE_DIGITS digits, else its last SID_CORE characters) and, unless the needle is a
    number as written, the IDs' core (its last SID_CORE characters), upper-cased."""
    number_core = digits[-CORE_DIGITS:] if digits else needle.upper()[-SID_CORE:]
    if _WRITTEN_NUMBER.search(needle):
        return {number_core}
    return {number_core, needle.upper()[-SID_CORE:]}


def index_cores(raw: str | None) -> set[str]:
    """The cores the search index is asked for `raw`; empty when it narrows nothing (no
    needle, or a core shorter than a trigram). The call filter writes the environment
    condition from them (`sync.search_text.environment_q`)."""
    needle = clean_needle(raw)
    if not needle:
        return set()
    cores = _cores(needle, phone_digits(needle))
    return cores if min(len(core) for core in cores) >= MIN_PROBED else set()


def _number_q(field: str, needle: str, digits: str) -> Q:
    """A number holding the needle: a phone-shaped one by its digits, anything else as
    written (a stored "anonymous")."""
    return Q(**{f"{field}__contains": digits or needle})


def _candidates(cores: set[str]) -> Q:
    """The rows whose joined text holds one of the cores (upper-cased): what the trigram
    index answers. Empty (no condition) when a core is too short for a trigram."""
    if min(len(core) for core in cores) < MIN_PROBED:
        return Q()
    condition = Q()
    for core in sorted(cores):
        condition |= Q(Contains(SearchText(), core))
    return condition


def search_calls(queryset, raw: str | None, call_id: CallId = CALL_ID_PARTS):
    """`queryset` narrowed to the calls `raw` finds (unchanged when it is empty).

    Reads the matching ids at once (one query through the search indexes) unless the needle
    is too short to narrow anything; see the module docstring."""
    q = search_q(raw, call_id)
    if q is None:
        return queryset
    matches = queryset.filter(q)
    needle = clean_needle(raw)
    if len(phone_digits(needle) or needle) < MIN_PROBED:
        return matches
    found_rows = _matching_rows(matches)
    if found_rows is None:
        return matches
    ids = [pk for pk, _started in found_rows]
    # No match: a condition that still compiles to SQL (an empty IN does not).
    found = queryset.filter(pk__in=ids) if ids else queryset.filter(pk__isnull=True)
    # What it found, for `probed`: the query's attributes follow its clones.
    started = [at for _pk, at in found_rows]
    found.query.probed = (Probed(ids, min(started, default=None), max(started, default=None)),
                          len(found.query.where.children))
    return found


@dataclass(frozen=True)
class Probed:
    """What a search's probe read: the ids of the calls it found, and when the first and the
    last of them started (None when it found none): the bounds that let PostgreSQL read a
    page of them by id from their months' partitions alone."""

    ids: list[int]
    first_started: datetime | None
    last_started: datetime | None


def probed(queryset) -> Probed | None:
    """What the probe read for `queryset` when it is a probed search as `search_calls`
    returned it (ordered, deferred or prefetched since, which changes no row), without asking
    the database again: the explorer's "N calls" of a search was one more query, compiled and
    planned over every month of the period, for a figure the probe had already read, and its
    page lists the calls by id (`reports.pages.calls.ProbedCalls`). None for anything else, a
    search narrowed further included (a condition added since)."""
    query = queryset.query
    found = getattr(query, "probed", None)
    if found is None or found[1] != len(query.where.children) or query.is_sliced:
        return None
    return found[0]


def _matching_rows(matches) -> list[tuple[int, datetime]] | None:
    """The (id, start) of `matches` read through the search indexes, or None beyond PROBE."""
    probe = matches.order_by().values_list("pk", "started_at")[: PROBE + 1]
    connection = connections[matches.db]
    plans_off = "; ".join(f"SET LOCAL {name} = off" for name in PROBE_PLANS_OFF)
    if _one_round_trip(connection):
        rows = _probed_at_once(connection, probe, plans_off)
    else:
        # Only the trigram (bitmap) scans may answer; SET LOCAL lasts until the rollback.
        with transaction.atomic(using=matches.db):
            with connection.cursor() as cursor:
                cursor.execute(plans_off)
            rows = list(probe)
            transaction.set_rollback(True, using=matches.db)
    return None if len(rows) > PROBE else rows


def _one_round_trip(connection) -> bool:
    """Whether the probe can be one query string: the connection in autocommit (a request
    outside any transaction). PostgreSQL runs such a string as one implicit transaction, so
    its SET LOCAL lasts until the string's end: the plans are off for the probe alone, as the
    transaction rolled back gave, in one round trip instead of four (BEGIN, SET LOCAL, the
    probe, ROLLBACK). Inside a transaction the SET LOCAL would outlive the probe: the
    rolled-back block serves."""
    return connection.get_autocommit() and not connection.in_atomic_block


def _probed_at_once(connection, probe, plans_off: str) -> list[tuple[int, datetime]]:
    """The probe's rows, its plans switched off in the same query string, sent by a cursor
    that binds on the client (`_client_cursor`)."""
    sql, params = probe.query.get_compiler(connection=connection).as_sql()
    with _client_cursor(connection) as cursor:
        cursor.execute(f"{plans_off}; {sql}", params)
        while cursor.description is None and cursor.cursor.nextset():
            pass  # the SET LOCALs' results
        return cursor.fetchall()


def _client_cursor(connection):
    """A cursor of the request's connection that binds parameters on the client, wrapped as
    Django wraps its own (query logging, execute wrappers). Several statements with
    parameters go as one simple query only so: bound on the server
    (`DB_PREPARED_STATEMENTS`) they would be one prepared statement, which PostgreSQL refuses.
    And no ROLLBACK: psycopg forgets a connection's prepared statements on every one."""
    from django.db.backends.postgresql.base import Cursor  # psycopg's ClientCursor

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = Cursor(connection.connection)
    return (connection.make_debug_cursor(raw) if connection.queries_logged
            else connection.make_cursor(raw))
