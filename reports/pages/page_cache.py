"""Report pages kept rendered until what they show changes: a shared body, a member's frame.

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
(`reports.templatetags.page_body`), which renders it on a miss; `PageFrame.finish` keeps it.

The frame around the body (header, organisation switcher, freshness chips, banners, saved
views, the filter form) is kept too, per member (`PageFrame`): its key holds the member,
their role, the path and query, the language, the organisation's day and everything the
frame reads that can change without the URL changing — each environment's name, status,
data version, last sync and freshness words, the member's organisations, the firing rules
they have not dismissed (every field the banner reads, snoozed or not), their saved views.
Those are read on every request, in one plain statement (`reports.pages.page_state`); the
frame is never rendered again until one of them changes. (A change committed in the few
milliseconds between that read and the render shows in a frame kept under the older state;
the next request reads the newer state, so it is only ever served again if that state comes
back exactly — a role or a name changed and changed back — and then until it expires.)
A page with a message pending (after a POST) is neither served from nor put in the cache. CSRF
tokens are never kept: a kept page holds a placeholder where a token was, which each response
replaces with the request's own token. A kept frame names the body it was rendered around; a
request that finds both sends them without building the filter form, the scope or any template.
Every report page is kept through one decorator, `kept_page`: smaller pages (agents, callbacks,
the calls explorer without a search) whole per member; the dashboard as a frame around its
shared body; the calls explorer with a search as a frame kept around a placeholder, its body
(the search's results) rendered for every request. That frame is rendered once for a member and
a set of filters with `SEARCH_PLACEHOLDER` as the searched value, and every search of the same
filters is sent in it with the placeholder filled: the value shows in a kept page only as HTML
(a form field's value) or URL-encoded then HTML (links, the saved-view and language forms), and
the placeholder's two encodings differ, so each is filled with the same encoding of the value. A
frame that holds the placeholder any other way is not kept: the page is rendered whole.
"""
from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import wraps
from typing import Any
from urllib.parse import quote_plus

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.html import escape
from django.utils.translation import get_language

from portal import redis_guard
from portal.pages.pages import remember_organization
from reports.cache import keep_page, page_key, read_page, report_cache_seconds
from reports.pages.page_state import frame_state

# Bump when a template of a cached body (or frame) changes shape in a way a deploy must not
# mix.
BODY_VERSION = 1
FRAME_VERSION = 1
# What kept pages hold in place of a CSRF token (letters only: never escaped).
CSRF_PLACEHOLDER = "sbCsrfPlaceholderToken"
_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
# What a kept frame holds in place of the searched value (see the module docstring): a space
# and angle brackets make its HTML and its URL encodings differ.
SEARCH_PLACEHOLDER = "sbSearched <placeholder>"
_PLACEHOLDER_WORD = SEARCH_PLACEHOLDER.split()[0]
# Each encoding the placeholder is found in, by its encoded text.
_ENCODINGS = {encode(SEARCH_PLACEHOLDER): encode
              for encode in (escape, lambda value: escape(quote_plus(value)))}
_PLACEHELD = re.compile("|".join(re.escape(text) for text in _ENCODINGS))
# Where a frame kept around a placeholder has its body (letters only: never escaped).
BODY_SLOT = "sbPageBodySlot"


class PagePart(StrEnum):
    """What a view renders for a page kept around a placeholder (`kept_page`'s `placeheld`):
    the body alone, for every request (a `PagePartResponse`), or, once for a member and a set
    of filters, the page with `BODY_SLOT` in the body's place."""

    BODY = "body"
    FRAME = "frame"


class PagePartResponse(HttpResponse):
    """A view's answer for `PagePart.BODY`: the body's HTML alone."""


def page_part(request: HttpRequest) -> PagePart | None:
    """The part of its page this request renders (None: the whole page)."""
    return getattr(request, "page_part", None)


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
        # The outcome figures (settled / pending) move with the clock and the organisation's
        # resolution window, not with a data version: a body is kept one UTC hour at most.
        hour = timezone.now().strftime("%Y-%m-%dT%H")
        variant = repr((BODY_VERSION, page, get_language(), org.slug, org.timezone,
                        timezone.localdate(timezone=org.tzinfo).isoformat(), query, names,
                        org.resolution_window_days, hour))
        key = page_key(f"page-{page}", scope.environments, params, variant)
        html = read_page(key)
        return cls(key, html, kept=html is not None)

    def keep(self) -> str:
        """Keep the body this request rendered; the kept text (tokens taken out) is returned.
        Called by `PageFrame.finish` once the page is rendered, not by the template: the
        cache write is no part of rendering, and `finish` needs the same text."""
        shared = without_tokens(self.html or "")
        keep_page(self.key, shared)
        return shared


def lazy_context(names: Iterable[str], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`names` of the body's context, each computed (all at once, by `compute`) only when
    read: a kept body needs none of them, a reader of the response's context gets them."""
    computed = SimpleLazyObject(compute)
    return {name: SimpleLazyObject(lambda name=name: computed[name]) for name in names}


@dataclass
class PageFrame:
    """A report page's frame for one member (see the module docstring).

    `PageFrame.of(request, page)` reads the frame's state (`reports.pages.page_state`) and looks
    the page up; `kept_response()` is the whole page when frame and body were kept;
    `finish(response, body)` keeps a freshly rendered page's frame and puts the request's
    CSRF token in.
    """

    request: HttpRequest
    # None: this request's page is not kept (a message is pending).
    key: str | None
    kept: dict[str, str] | None = None

    @classmethod
    def of(cls, request: HttpRequest, page: str) -> PageFrame:
        org = request.tenant.organization
        remember_organization(request, org)
        if len(get_messages(request)):  # the frame shows a message: rendered, never kept
            return cls(request, None)
        key = frame_key(request, page)
        kept = redis_guard.cache_get("page cache", key)
        return cls(request, key, kept if isinstance(kept, dict) else None)

    def kept_response(self) -> HttpResponse | None:
        """The whole page from the cache (frame and body), or None on a miss."""
        if self.kept is None:
            return None
        body = read_page(self.kept["body"]) if self.kept["body"] else ""
        if body is None:
            return None
        return HttpResponse(self._with_token(self.kept["head"] + body + self.kept["tail"]))

    def finish(self, response: HttpResponse, body: PageBody | None = None) -> HttpResponse:
        """Keep a freshly rendered page: its frame around `body` (kept on its own, shared by
        every member), or the whole page when there is no body; send it with this request's
        CSRF token."""
        html = response.content.decode(response.charset)
        fresh = body is not None and body.html is not None and not body.kept
        shared = body.keep() if fresh else None
        if self.key is not None and response.status_code == 200:
            page = without_tokens(html)
            if body is None:
                self._keep({"body": None, "head": page, "tail": ""})
            elif body.html and page.count(shared := shared or without_tokens(body.html)) == 1:
                head, tail = page.split(shared)
                self._keep({"body": body.key, "head": head, "tail": tail})
        response.content = self._with_token(html)
        return response

    def keep_around_slot(self, response: HttpResponse) -> bool:
        """Keep the frame `response` holds around `BODY_SLOT`, rendered with the placeholder;
        False (nothing kept) when it is not a page, or holds the placeholder in an encoding
        `filled` does not know."""
        if response.status_code != 200:
            return False
        page = without_tokens(response.content.decode(response.charset))
        if page.count(BODY_SLOT) != 1 or (
                page.count(_PLACEHOLDER_WORD) != len(_PLACEHELD.findall(page))):
            return False
        head, tail = page.split(BODY_SLOT)
        self.kept = {"body": None, "head": head, "tail": tail}
        self._keep(self.kept)
        return True

    def around(self, body: str, value: str) -> HttpResponse:
        """The kept frame around `body`, its placeholder filled with `value`."""
        head, tail = (filled(self._with_token(self.kept[part]), value) for part in ("head", "tail"))
        return HttpResponse(head + body + tail)

    def _keep(self, entry: dict[str, str | None]) -> None:
        redis_guard.cache_set("page cache", self.key, entry, report_cache_seconds())

    def _with_token(self, html: str) -> str:
        return html.replace(CSRF_PLACEHOLDER, self._token)

    @cached_property
    def _token(self) -> str:
        """This request's CSRF token, masked once: every `get_token` masks the secret anew
        (32 random choices), and a frame sent around a search puts it in twice."""
        return get_token(self.request)


def frame_key(request: HttpRequest, page: str) -> str:
    """The key of `page`'s frame for this request's member (see the module docstring)."""
    org, membership = request.tenant.organization, request.tenant.membership
    shown = frame_state(org, request.user, timezone.now())
    # What kinds of row the state holds: the banner, the saved-views menu and the team choice
    # of this request's frame ask no query of their own for a kind it read none of
    # (`reports.pages.page_state.frame_parts` asks instead on a page that is not kept).
    request.frame_kinds = frozenset(kind for kind, _pk, _text in shown[2])
    state = (FRAME_VERSION, page, get_language(), request.get_full_path(),
             timezone.localdate(timezone=org.tzinfo).isoformat(), membership.role, shown,
             getattr(request.tenant.restriction, "fingerprint", None))
    digest = hashlib.sha256(repr(state).encode()).hexdigest()[:32]
    return f"page-frame:v{FRAME_VERSION}:{page}:org{org.pk}:user{request.user.pk}:{digest}"


def filled(html: str, value: str) -> str:
    """`html` with each encoding of the placeholder replaced by the same encoding of `value`
    (one pass: a value that holds the placeholder is sent as it is)."""
    return _PLACEHELD.sub(lambda found: _ENCODINGS[found.group(0)](value), html)


def with_placeholder(request: HttpRequest, name: str) -> HttpRequest:
    """A copy of `request` whose query holds the placeholder as `name`'s value (its path, its
    `GET` and the query string the frame's forms carry)."""
    masked = copy.copy(request)
    query = request.GET.copy()
    query[name] = SEARCH_PLACEHOLDER
    masked.GET = query
    masked.META = {**request.META, "QUERY_STRING": query.urlencode()}
    return masked


def without_tokens(html: str) -> str:
    """`html` with every CSRF token replaced by the placeholder: what may be kept."""
    return _TOKEN.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<2>", html)


def kept_page(page: str, passes: tuple[str, ...] = ("format",),
              placeheld: str | None = None) -> Callable:
    """Keep a report page per member (`PageFrame`): every report page's one recipe. Inside
    `org_page`; a request with any of `passes` in its query (a download, a transcript search)
    is rendered as it comes and not kept. A page whose body is large and the same for every
    member (the dashboard) hands its `PageBody` over as `response.page_body`: the frame is
    then kept around that shared body; otherwise the page is kept whole. A request with
    `placeheld` in its query (the explorer's search) is sent in a frame kept around a
    placeholder, its body rendered every time (`PagePart`; the module docstring)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if any(request.GET.get(name) for name in passes):
                return view(request, *args, **kwargs)
            if placeheld and request.GET.get(placeheld):
                return _around_placeholder(view, request, page, placeheld, *args, **kwargs)
            frame = PageFrame.of(request, page)
            if (kept := frame.kept_response()) is not None:
                return kept  # frame and body: no form, no scope, no template
            response = view(request, *args, **kwargs)
            return frame.finish(response, getattr(response, "page_body", None))

        wrapper.kept_as = page  # what the one-door test looks for
        return wrapper

    return decorate


def _around_placeholder(view: Callable[..., HttpResponse], request: HttpRequest, page: str,
                        name: str, *args, **kwargs) -> HttpResponse:
    """`view`'s page for a request searched by `name`: the body (the search's results) rendered
    for this request, sent in the member's frame kept for the same filters with the placeholder
    as the searched value (rendered and kept first on a miss)."""
    masked = with_placeholder(request, name)
    frame = PageFrame.of(masked, page)
    if frame.key is None:  # a message is pending: the whole page, rendered and not kept
        return view(request, *args, **kwargs)
    request.page_part = PagePart.BODY
    body = view(request, *args, **kwargs)
    if not isinstance(body, PagePartResponse):  # refused (400): the whole page, as it came
        return body
    if frame.kept is None:
        masked.page_part = PagePart.FRAME
        if not frame.keep_around_slot(view(masked, *args, **kwargs)):
            request.page_part = None
            return view(request, *args, **kwargs)
    return frame.around(body.content.decode(body.charset), request.GET[name])
