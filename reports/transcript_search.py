"""Transcript search for the calls explorer, and the highlighting of its hits on a call.

Full-text search over `Call.transcript` with `websearch_to_tsquery` (words, "a
phrase", -excluded, or), served by the GIN index `call_env_search_gin` (sync migration
0001_mirror_and_partitioned_calls: the environment, the search text's trigrams, the
transcript's words; it replaced a partial transcript index, whose `transcript <> ''`
condition stays as a cheap filter)
— the expression below must stay the index's. The 'simple' configuration: transcripts are
in English and Brazilian Portuguese, so no stemming or stop words.
"""
from __future__ import annotations

import re

from django.db.models import QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

TSVECTOR_SQL = "to_tsvector('simple'::regconfig, \"sync_call\".\"transcript\")"
_WORD = re.compile(r"\w+", re.UNICODE)
_OPERATORS = {"or"}


def search_terms(query: str) -> list[str]:
    """The words of a search (operators and excluded words left out), lower-cased."""
    terms = []
    for part in query.split():
        if part.startswith("-") or part.lower() in _OPERATORS:
            continue
        terms.extend(w.lower() for w in _WORD.findall(part))
    return list(dict.fromkeys(terms))


def filter_transcripts(queryset: QuerySet, query: str) -> QuerySet:
    """Calls whose transcript matches `query` (see the module docstring)."""
    query = query.strip()
    if not query:
        return queryset
    return queryset.extra(  # noqa: S610 - fixed SQL, the search is a parameter
        where=[f"\"sync_call\".\"transcript\" <> '' AND "
               f"{TSVECTOR_SQL} @@ websearch_to_tsquery('simple'::regconfig, %s)"],
        params=[query])


def highlight(text: str, query: str) -> SafeString:
    """`text` escaped for HTML with each whole-word hit of the search's words in <mark>."""
    safe = escape(text)
    terms = search_terms(query or "")
    if not terms:
        return mark_safe(safe)  # noqa: S308 - escaped above
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(escape(t)) for t in terms)
                         + r")(?!\w)", re.IGNORECASE | re.UNICODE)
    return mark_safe(pattern.sub(r"<mark>\1</mark>", safe))  # noqa: S308 - escaped above
