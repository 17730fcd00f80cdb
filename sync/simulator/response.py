"""What every vendor's endpoints answer with, and what the fault pipeline reads from it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NamedTuple

JSON = "application/json"


class Listing(NamedTuple):
    """What a served page of calls was, for the insert fault: the environment, the vendor's
    own filter of the listing (opaque to the core), its range of days (date ordinals, None:
    open) and the page number."""

    env: str
    filt: object
    lo: int | None
    hi: int | None
    page: int


@dataclass
class Response:
    """A finished HTTP response plus what the fault pipeline and the request log need."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    env: str | None = None
    listing: Listing | None = None


def dumps(value: object) -> bytes:
    """Compact JSON, non-ASCII escaped as \\uXXXX (what the vendors' frameworks send)."""
    return json.dumps(value, separators=(",", ":")).encode()


def json_response(status: int, payload: object) -> Response:
    return Response(status, dumps(payload))


def error_shape(status: int, code: str, message: str) -> Response:
    """The simulator's own error body (an unknown path), which a vendor may share."""
    return json_response(status, {"success": False, "error": {
        "code": code, "message": message, "details": {}}})
