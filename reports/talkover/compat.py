"""Talkover's wire format, so a Talkover client can point at Switchboard unchanged.

Envelope `{"success": true, "data": …, "pagination": …}`, Laravel-style pagination
(`current_page, last_page, per_page, total, from, to`), and Talkover's error shapes: 401
`{"success": false, "message": "Unauthorized"}`, 404 `{… "message": "Agent not found"}`,
422 `{… "message": "The given data was invalid.", "errors": {field: [message]}}`.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from reports.days import FIRST_DAY, LAST_DAY, MAX_RANGE_DAYS, ScopeError, parse_day, range_problems

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# A page whose offset could not be a database OFFSET (bigint) is a 422, not a 500.
MAX_PAGE = 2**31 - 1
INVALID_DATA = "The given data was invalid."


class TalkoverValidationError(exceptions.APIException):
    """A 422 carrying Laravel-style field errors."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = INVALID_DATA

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(INVALID_DATA)
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}


class TalkoverNotFound(exceptions.NotFound):
    """A 404 whose message is Talkover's ("Agent not found")."""


def _label(field: str) -> str:
    return field.replace("_", " ")


def talkover_words(code: str, field: str, *, start_field: str = "", max_days: int | None = None
                   ) -> str:
    """Talkover's (Laravel's) words for a refusal of the one day parser and range rules
    (`reports.days`), by its code: the rules live there, only the wording here."""
    if code == "invalid":
        return f"The {_label(field)} must be a valid date."
    if code == "reversed":
        return f"The {_label(field)} must be a date after or equal to {_label(start_field)}."
    if code == "too_long":
        return f"The period may cover at most {max_days} days."
    return (f"The {_label(field)} must be a date between {FIRST_DAY.isoformat()} and "
            f"{LAST_DAY.isoformat()}.")


def day_param(params: Mapping[str, str], name: str, errors: dict[str, list[str]]) -> date | None:
    """A YYYY-MM-DD query value (Laravel's reading: blank is absent), or None; a bad one
    adds Talkover's "The start date must be a valid date." to `errors`."""
    raw = params.get(name)
    try:
        return parse_day(raw.strip() if raw is not None else None, name)
    except ScopeError as exc:
        errors[name] = [talkover_words(exc.codes[name], name)]
        return None


def range_errors(start: date | None, end: date | None, *, start_field: str, end_field: str,
                 max_days: int | None) -> dict[str, list[str]]:
    """The range rules (`reports.days.range_problems`, the only place they live) applied to
    Talkover's parameter names, in Talkover's words."""
    return {field: [talkover_words(code, field, start_field=start_field, max_days=max_days)]
            for field, (code, _message) in range_problems(
                start, end, start_field=start_field, end_field=end_field,
                max_days=max_days).items()}


# Callback stats answer a period of at most this many days (a report's limit).
MAX_STATS_DAYS = MAX_RANGE_DAYS


def envelope(data: Any, pagination: dict | None = None) -> dict:
    body: dict[str, Any] = {"success": True, "data": data}
    if pagination is not None:
        body["pagination"] = pagination
    return body


def json_bytes(body: dict) -> bytes:
    """`body` as DRF's JSONRenderer writes it (compact, UTF-8, U+2028/U+2029 escaped), by
    orjson: the standard library's encoder was a tenth of a listing page's CPU. The bodies
    hold strings, ints, booleans and None only, which both write alike."""
    return orjson.dumps(body).replace(b"\xe2\x80\xa8", b"\\u2028").replace(
        b"\xe2\x80\xa9", b"\\u2029")


def _positive_int(params: Mapping[str, str], name: str, label: str, default: int,
                  maximum: int | None, errors: dict[str, list[str]]) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = [f"The {label} must be an integer."]
        return default
    if value < 1:
        errors[name] = [f"The {label} must be at least 1."]
    elif maximum is not None and value > maximum:
        errors[name] = [f"The {label} must not be greater than {maximum}."]
    return value


def page_params(params: Mapping[str, str], errors: dict[str, list[str]]) -> tuple[int, int]:
    """(page, per_page) from the query, with Talkover's defaults, limits and messages."""
    per_page = _positive_int(params, "per_page", "per page", DEFAULT_PER_PAGE, MAX_PER_PAGE,
                             errors)
    page = _positive_int(params, "page", "page", 1, MAX_PAGE, errors)
    return page, per_page


def talkover_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, reshaped into Talkover's error envelopes."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found")
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, TalkoverValidationError):
        body = {"success": False, "message": INVALID_DATA, "errors": exc.errors}
    elif isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {"success": False, "message": INVALID_DATA,
                "errors": {k: [str(m) for m in v] for k, v in detail.items()}}
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        body = {"success": False, "message": "Unauthorized"}
    elif isinstance(exc, exceptions.Throttled):
        body = {"success": False, "message": "Too Many Attempts."}
    elif isinstance(exc, exceptions.APIException):
        body = {"success": False, "message": str(exc.detail)}
    else:  # pragma: no cover - exception_handler only answers APIException/Http404/403
        body = {"success": False, "message": "Internal server error."}
    response.data = body
    return response
