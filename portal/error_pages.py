"""The portal's own 404 and 403 pages, in the reader's language, whatever DEBUG says.

Without DEBUG, Django renders `404.html` / `403.html` itself. With DEBUG on (the demo) it
would show its technical pages instead: English, listing every URL pattern, ~980 px wide on a
phone — what a restricted member met on the demo. This middleware renders the portal's pages
for a view's `Http404` / `PermissionDenied` and for a path no URL pattern matches, before
Django's debug handling sees them. The API keeps its own JSON errors (DRF answers inside the
view), and the slash redirect still happens (CommonMiddleware sits outside this one).
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve


def page(request: HttpRequest, status: int, exception: Exception | None = None
         ) -> HttpResponse:
    message = str(exception) if status == 403 and exception is not None and str(exception) else ""
    html = render_to_string(f"{status}.html", {"exception": message}, request=request)
    return HttpResponse(html, status=status)


class PortalErrorPages:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:  # without DEBUG, Django's own handler renders 404.html already
            try:
                resolve(request.path_info)
            except Resolver404:
                return page(request, 404)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception
                          ) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return page(request, 404)
        if isinstance(exception, PermissionDenied):
            return page(request, 403, exception)
        return None
