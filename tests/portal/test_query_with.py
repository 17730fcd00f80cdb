"""`{% query_with %}` (sort and page links): the current query with changes, the same text as
the `QueryDict` edit it replaced, whatever the query holds."""
from __future__ import annotations

from django.http import QueryDict
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.templatetags.portal_tags import query_with

KEYS = st.sampled_from(["sort", "page", "search", "status", "env", "x y", "ç&=", ""])
VALUES = st.text(max_size=12)
CHANGES = st.dictionaries(st.sampled_from(["sort", "page", "format", "search"]),
                          st.one_of(st.none(), st.just(""), st.integers(0, 99), VALUES),
                          max_size=3)


def as_querydict_edit(query: QueryDict, changes: dict) -> str:
    """What the tag did before: copy the QueryDict, pop each changed key, set it again."""
    params = query.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(KEYS, VALUES), max_size=6), changes=CHANGES)
def test_the_link_is_the_querydict_edit_it_replaced(pairs, changes):
    query = QueryDict(mutable=True)
    for key, value in pairs:
        query.appendlist(key, value)
    request = RequestFactory().get("/o/org-a/calls/", QueryDict(query.urlencode()))
    assert query_with({"request": request}, **changes) == as_querydict_edit(request.GET, changes)
