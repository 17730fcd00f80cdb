"""The search index's pending entries in the call partitions a back-fill just filled, merged
now (PostgreSQL; issues 36 and 44).

Why: the search GIN (`call_env_search_gin`, sync migration 0019_h44s) takes new entries into
an unsorted *pending list* (GIN's fast update) and merges them into its tree only when the
list passes `gin_pending_list_limit` (4 MB by default) or when the table is vacuumed. Every
search reads the whole pending list of each month it asks, whoever's entries it holds: right
after a back-fill of 68,620 calls its four months held 1,221 pending pages and a search by
SID took 12-26 ms; merged, 1.7-4.4 ms (bench/search_pending.py). Autovacuum merges the list
only when it vacuums the leaf, which for an established month waits for a fifth of its rows
to be new. So the back-fill merges the lists of the months it filled itself, after its last
batch, beside its ANALYZE (`sync.partitions.analyze`): the same work a later insert or vacuum
would do, done now rather than paid by searches meanwhile.

Not done: a larger list while back-filling (inserting 68,620 calls took 8-19 % less with 16-64
MB), because every tenant's searches of those months would read it meanwhile (90 ms a search
with 30 MB pending; docs/partitioning.md). Merging needs the index's owner, as ANALYZE does:
a database user that is not gets a note in the run's details, and nothing else changes.
"""
from __future__ import annotations

from django.db import DatabaseError, connection, transaction

SEARCH_INDEX = "call_env_search_gin"

# The search index's leaf (or only) index on each of these tables.
LEAF_INDEXES = f"""
SELECT t.relid::regclass::text FROM pg_partition_tree(to_regclass('{SEARCH_INDEX}')) t
JOIN pg_index i ON i.indexrelid = t.relid JOIN pg_class c ON c.oid = i.indrelid
WHERE t.isleaf AND c.relname = ANY(%s) ORDER BY 1"""


def merge_pending(tables: list[str]) -> dict[str, int]:
    """Merge the search index's pending list on each of `tables` (call partitions); returns
    the pages merged per index, those that held any. Each merge is its own savepoint, so a
    refused one (`DatabaseError`: the user does not own the index) rolls back alone and is
    raised; `merge_pending_or_note` turns it into a note."""
    if connection.vendor != "postgresql" or not tables:
        return {}
    merged: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(LEAF_INDEXES, [tables])
        indexes = [name for (name,) in cursor.fetchall()]
        for index in indexes:
            with transaction.atomic():
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                pages = cursor.fetchone()[0]
            if pages:
                merged[index] = pages
    return merged


def merge_pending_or_note(tables: list[str]) -> tuple[dict[str, int], str]:
    """`merge_pending`, or ({}, why not) when the database refused (not the index's owner)."""
    try:
        return merge_pending(tables), ""
    except DatabaseError as exc:
        return {}, str(exc).splitlines()[0]
