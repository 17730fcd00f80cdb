"""Report pages' bodies kept rendered until the data they show changes.

A dashboard's body (coverage, key figures, charts, tables and their 500-1,200 drill links)
is a pure function of the report summaries, the page's query, the language, the
organisation's day and its environments' names; the summaries are themselves cached by each
environment's data version (`reports.cache`). The body is kept under the same key plus those
inputs, so a request after the first one renders only the frame around it (header,
freshness, banners, filters: what depends on the user or the clock), and no process can
serve a body older than the last sync that changed the mirror. Reads and writes go through
the Redis guard (`reports.cache`): a sick cache renders the body every time, never a 500 and
never a wait.

A view builds a `PageBody` and computes the body's context only when `body.html` is None;
the template wraps the body in `{% page_body body %}…{% end_page_body %}`
(`reports.templatetags.page_body`), which renders and keeps it on a miss.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from reports.cache import keep_page, page_key, read_page

# Bump when a template of a cached body changes shape in a way a deploy must not mix.
BODY_VERSION = 1


@dataclass
class PageBody:
    """One page's cacheable body: its key, and the HTML when it was kept already."""

    key: str
    html: str | None = field(default=None)
    # Whether the HTML came from the cache (False: rendered by this request).
    kept: bool = False

    @classmethod
    def of(cls, page: str, request: HttpRequest, scope, kinds: Sequence[str]) -> PageBody:
        """The body of `page` for this request's scope, read from the cache if kept."""
        org = scope.organization
        params = {kind: scope.cache_params(kind) for kind in kinds}
        query = sorted((k, v) for k, values in request.GET.lists() for v in values)
        # Names too: renaming an environment changes no data version but shows in the body.
        names = [e.name for e in scope.environments]
        variant = repr((BODY_VERSION, page, get_language(), org.slug, org.timezone,
                        timezone.localdate(timezone=org.tzinfo).isoformat(), query, names))
        key = page_key(f"page-{page}", scope.environments, params, variant)
        html = read_page(key)
        return cls(key, html, kept=html is not None)

    def keep(self, html: str) -> None:
        self.html = html
        keep_page(self.key, html)


def lazy_context(names: Iterable[str], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`names` of the body's context, each computed (all at once, by `compute`) only when
    read: a kept body needs none of them, a reader of the response's context gets them."""
    computed = SimpleLazyObject(compute)
    return {name: SimpleLazyObject(lambda name=name: computed[name]) for name in names}
