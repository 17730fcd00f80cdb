"""Response headers for tenant data: API answers and organisation pages (reports, exports,
settings) are `Cache-Control: private, no-store`, so no shared proxy or browser cache keeps
one organisation's figures where the next user of the machine could find them."""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

NO_STORE_PREFIXES = ("/api/", "/o/")


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(NO_STORE_PREFIXES):
            response["Cache-Control"] = "private, no-store"
        return response
