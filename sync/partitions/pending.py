"""The search index's pending entries in the call partitions a back-fill just filled, merged
now (PostgreSQL).

Why: the search GIN (`call_env_search_gin`, made by the sync migration) takes new entries into
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


def merge_pending(tables: list[str]) -> tuple[dict[str, int], str]:
    """Merge the search index's pending list on each of `tables` (call partitions): (pages
    merged per index that held any, "" or why the database refused — the user does not own
    the index). Each merge is its own savepoint, so a refused one rolls back alone."""
    if not tables:
        return {}, ""
    merged: dict[str, int] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute(LEAF_INDEXES, [tables])
            for (index,) in cursor.fetchall():
                with transaction.atomic():
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                    pages = cursor.fetchone()[0]
                if pages:
                    merged[index] = pages
    except DatabaseError as exc:
        return merged, str(exc).splitlines()[0]
    return merged, ""
