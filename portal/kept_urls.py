"""Reversed URLs kept per process: `kept_reverse` is `reverse()` answered from memory.

Why: `reverse()` walks the URL resolver for each call (15-25 µs), and an organisation page
asks for about twenty (the header's section tabs and links, the drill links' base): half a
millisecond of every page's template time. A path is a function of the view's
name, its arguments, the script prefix it is mounted under, the URLconf and the active
language, all of which are in the key, so a kept path is the path `reverse()` gives. At most
`KEPT` are kept (the least recently used go first), so arguments taken from requests cannot
grow it.
"""
from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

KEPT = 4096


def kept_reverse(viewname: str, args: tuple = ()) -> str:
    """`reverse(viewname, args=args)`, kept (arguments must be hashable: ids, slugs)."""
    return _reverse(viewname, tuple(args), get_script_prefix(),
                    get_urlconf() or settings.ROOT_URLCONF, get_language())


@lru_cache(maxsize=KEPT)
def _reverse(viewname: str, args: tuple, prefix: str, urlconf: str, language: str | None
             ) -> str:
    # The prefix, URLconf and language (no URL is translated today) are the key's: `reverse`
    # reads the thread's own.
    return reverse(viewname, args=args, urlconf=urlconf)
