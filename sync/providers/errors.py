"""Typed upstream errors. Messages say what happened and never contain the token."""
from __future__ import annotations


class UpstreamError(Exception):
    """The upstream failed or answered something we cannot use (after retries, if any)."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, path: str = "",
                 body_kind: str = "", body_digest: str = "") -> None:
        super().__init__(message)
        self.status, self.path = status, path
        # What tells two answers apart without quoting them (an upstream address could be any
        # service, its body anything): its kind ("json", "html", "text", "empty") and a short
        # hash. Nothing of the body's text is ever kept, logged or shown.
        self.body_kind, self.body_digest = body_kind, body_digest


class NotRetryable(UpstreamError):
    """An answer that asking again cannot change: the request fails at once, unretried."""

    retryable = False


class AuthError(NotRetryable):
    """401/403: the token was rejected; retrying cannot help."""


class NotFound(NotRetryable):
    """404: the resource (e.g. an agent id) does not exist upstream."""

    def not_this_api(self, label: str, expected_form: str, base_url: str) -> NotFound:
        """This 404 said as a wrong base URL, for a client whose every path is a collection
        route any account has (Talkover's, Vapi's): there a 404 means the address is not the
        provider's API (a host without its path, a typo), and the message names the form."""
        return NotFound(f"{self} — not a {label} API at {base_url}; give the base URL as "
                        f"{expected_form}", status=self.status, path=self.path,
                        body_kind=self.body_kind, body_digest=self.body_digest)


class ValidationError(NotRetryable):
    """422/400: the upstream rejected our parameters (a bug or an API change on our side)."""


class RateLimited(UpstreamError):
    """429 that persisted through every retry."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class BadResponse(UpstreamError):
    """A 2xx whose body is not the JSON shape the API documents (truncated, HTML, renamed)."""


class AddressRefused(NotRetryable):
    """The base URL breaks the production policy (not https, or not a public address)."""


class Redirected(NotRetryable):
    """A 3xx: never followed (the address policy checks the base URL, not where it points)."""


class AnswerTooSlow(NotRetryable):
    """The answer (connect, headers and whole body) did not arrive within its total deadline."""


class StreamDeadlinePassed(AnswerTooSlow):
    """One run's reading of one stream outlasted its total deadline (`deadline.RunDeadline`)."""


class AnswerTooLarge(NotRetryable):
    """The answer, decompressed, is larger than its cap (or an array has too many records)."""
