"""Paths kept per process (`portal.kept_urls`): each is the path `reverse()` gives, under the
script prefix and URLconf of the moment, and hostile arguments cannot grow the store."""
from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from portal import kept_urls
from portal.kept_urls import kept_reverse

CASES = [("home", ()), ("set_language", ()), ("dashboard", ("acme",)), ("calls", ("a-b",)),
         ("saved-view-open", ("acme", 7)), ("sync-status", ("x" * 60,))]


@pytest.mark.parametrize(("name", "args"), CASES)
def test_a_kept_path_is_the_reversed_path(name, args):
    assert kept_reverse(name, args) == reverse(name, args=args)
    assert kept_reverse(name, args) == reverse(name, args=args)  # kept, the same


def test_the_script_prefix_is_part_of_the_key():
    plain = kept_reverse("calls", ("acme",))
    try:
        set_script_prefix("/mounted/")
        assert kept_reverse("calls", ("acme",)) == "/mounted" + plain == reverse(
            "calls", args=["acme"])
    finally:
        clear_script_prefix()
    assert kept_reverse("calls", ("acme",)) == plain


def test_an_unknown_name_fails_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        kept_reverse("no-such-page", ())


def test_the_template_tag_writes_what_url_writes():
    context = Context({"slug": "acme-2", "pk": 3})
    for name, args in (("home", ""), ("dashboard", " slug"), ("saved-view-open", " slug pk")):
        url = Template(f"{{% url '{name}'{args} %}}").render(context)
        kept = Template(f"{{% load portal_tags %}}{{% kept_url '{name}'{args} %}}").render(
            context)
        assert kept == url


def test_hostile_arguments_cannot_grow_the_store():
    for n in range(kept_urls.KEPT + 50):
        kept_reverse("dashboard", (f"org-{n}",))
    assert kept_urls._reverse.cache_info().currsize <= kept_urls.KEPT
