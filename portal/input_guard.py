"""Refuse a NUL character anywhere a request carries text: path, query string, form fields.

PostgreSQL text cannot hold NUL (psycopg raises before the query runs), so a `%00` that
reaches any lookup — a page filter, an admin changelist filter or search, the admin
autocomplete `term`, a Talkover-compatible agent id — was a 500. No field of this site
takes a NUL, so it is refused once, here, before any view: 400 with a message (JSON under
`/api/`, as the API answers its other errors).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

NUL = "\x00"


def _has_nul(values: Iterable[str]) -> bool:
    return any(NUL in value for value in values)


def _query_has_nul(data) -> bool:
    return any(NUL in key or _has_nul(data.getlist(key)) for key in data)


def request_has_nul(request: HttpRequest) -> bool:
    """True when the path, a query parameter or a form field (name or value) holds a NUL."""
    if NUL in request.path or _query_has_nul(request.GET):
        return True
    content_type = request.content_type or ""
    if request.method == "POST" and content_type in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        return _query_has_nul(request.POST)
    return False


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RejectNulMiddleware:
    """400 for a request with a NUL character in its path, query string or form fields, and
    for a form body that cannot be parsed (a multipart body without its boundary would
    otherwise be refused later with a logged traceback)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            has_nul = request_has_nul(request)
        except MultiPartParserError:
            return _refuse(request, _("The form body could not be read: a multipart body "
                                      "needs a boundary in its Content-Type."))
        if has_nul:
            return _refuse(request,
                           _("The request contains a NUL character, which no field accepts."))
        return self.get_response(request)
