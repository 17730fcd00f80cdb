"""Typed upstream errors. Messages say what happened and never contain the token."""
from __future__ import annotations


class UpstreamError(Exception):
    """The upstream failed or answered something we cannot use (after retries, if any)."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, path: str = "",
                 details: object = None, upstream_message: str = "") -> None:
        super().__init__(message)
        self.status, self.path, self.details = status, path, details
        # The upstream's own words (from its body): for logs and decisions, never for users.
        self.upstream_message = upstream_message


class AuthError(UpstreamError):
    """401/403: the token was rejected; retrying cannot help."""

    retryable = False


class NotFound(UpstreamError):
    """404: the resource (e.g. an agent id) does not exist upstream."""

    retryable = False


class ValidationError(UpstreamError):
    """422/400: the upstream rejected our parameters (a bug or an API change on our side)."""

    retryable = False


class RateLimited(UpstreamError):
    """429 that persisted through every retry."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class BadResponse(UpstreamError):
    """A 2xx whose body is not the JSON shape the API documents (truncated, HTML, renamed)."""


class AddressRefused(UpstreamError):
    """The base URL breaks the production policy (not https, or not a public address)."""

    retryable = False
