"""The HTTP core every provider client uses: session, timeouts, budget, retries, errors.

Retries: connection errors, timeouts, 5xx and unparseable 2xx bodies back off exponentially
with full jitter; 429 waits `Retry-After` (capped). Every answer's `X-RateLimit-*` headers go
to the token's budget (`RequestBudget.observe`), which holds requests back while the upstream
says its window is spent. 401/403/404/422 are never retried.
Any method goes through the one door (`request`: a query and/or a JSON body), with the same
limits, budget, retries, deadlines and error shapes; requests are retried whatever their
method, so only reads go through it (an API that pages with POST, a listing's filter body).
Errors and logs name a request as "METHOD /path" ("GET /calls", "POST /v3/list-calls").
Logging names the method, path and query only: the token lives in a session header and is
never formatted into any message. Redirects are never followed, and every answer has a total
deadline and a decompressed size cap (`sync.providers.transport`); nothing of a body is ever
logged, kept or shown: status, content type, size, its kind and a short hash only.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from urllib3.exceptions import NameResolutionError, NewConnectionError

from sync import fast_json
from sync.budget import RequestBudget
from sync.providers.deadline import RunDeadline
from sync.providers.errors import (
    AddressRefused,
    AnswerTooSlow,
    AuthError,
    BadResponse,
    NotFound,
    RateLimited,
    Redirected,
    UpstreamError,
    ValidationError,
)
from sync.providers.transport import (
    BoundedBody,
    Limits,
    outbound_session,
    page_limits,
    send,
)
from sync.providers.transport import (
    stream_limits as default_stream_limits,
)

logger = logging.getLogger("sync.http")

USER_AGENT = "Switchboard-sync/1.0"
# What breaks off while a body is read (the socket, the chunked framing, the watchdog).
READ_ERRORS = (urllib3.exceptions.HTTPError, requests.RequestException, OSError)


def body_kind(body: bytes, content_type: str) -> str:
    """"json", "html", "text" or "empty": what an answer was, without quoting it."""
    if not body.strip():
        return "empty"
    try:
        json.loads(body)
    except ValueError:
        html = "html" in content_type.lower() or body.lstrip()[:1] == b"<"
        return "html" if html else "text"
    return "json"


def body_digest(body: bytes) -> str:
    """A short hash: tells two answers apart in logs without showing either."""
    return hashlib.sha256(body).hexdigest()[:12]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


# An upstream that cannot even be connected to (refused, unknown name, connect timeout) is
# tried this many times, not `max_attempts`: a wrong base URL then fails a run in seconds,
# naming the host, instead of a minute of backoff ending in "ConnectionError".
UNREACHABLE_ATTEMPTS = 2


def unreachable_reason(exc: requests.RequestException) -> str | None:
    """Why no connection could be made ("connection refused", "host name not found",
    "timed out connecting"), or None for an error after connecting."""
    if isinstance(exc, requests.ConnectTimeout):
        return "timed out connecting"
    if not isinstance(exc, requests.ConnectionError):
        return None
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    if isinstance(reason, NameResolutionError):
        return "host name not found"
    if isinstance(reason, NewConnectionError):
        return "connection refused" if "refused" in str(reason).lower() else "connection failed"
    return None


def request_line(method: str, path: str) -> str:
    """"GET /calls", "POST /v3/list-calls": how errors and logs name a request."""
    return f"{method.upper()} /{path.lstrip('/')}"


def _host_port(url: str) -> str:
    """host:port of `url` (no path, query or credentials: safe in an error)."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


@dataclass(frozen=True)
class Call:
    """One request as the client sends it (and retries it): method, path, query, JSON body."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None

    @property
    def line(self) -> str:
        return request_line(self.method, self.path)


class HttpClient:
    """JSON from one upstream with one token (any method, a query and/or a JSON body),
    within a shared request budget."""

    def __init__(self, base_url: str, token: str, *, budget: RequestBudget | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0), max_attempts: int = 6,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 retry_after_cap: float = 120.0,
                 on_wait: Callable[[float], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, quiet: bool = False,
                 address_check: Callable[[str], None] | None = None,
                 limits: Limits | None = None, stream_limits: Limits | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # A connection test answers its user directly: its failures are not log warnings.
        self.log_level = logging.DEBUG if quiet else logging.WARNING
        # Checked before the first request (not at construction), so a refusal fails a run
        # with its reason; `portal.upstream_url.check_allowed` in production.
        self.address_check = address_check
        self.limits = limits or page_limits()
        self.stream_limits = stream_limits or default_stream_limits()
        self.session = outbound_session({
            "Authorization": f"Bearer {token}", "Accept": "application/json",
            "User-Agent": USER_AGENT,
        })
        self.budget = budget
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.retry_after_cap = retry_after_cap
        self.on_wait = on_wait
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        # The running stream's total deadline (set by the engine for each stream it runs).
        self.deadline: RunDeadline | None = None

    def close(self) -> None:
        self.session.close()

    def check_address(self) -> None:
        """Refuse (once, then remember) a base URL the production policy forbids."""
        check, self.address_check = self.address_check, None
        if check is None:
            return
        try:
            check(self.base_url)
        except Exception as exc:  # noqa: BLE001 — a Django ValidationError, said plainly
            self.address_check = check
            reason = "; ".join(getattr(exc, "messages", [str(exc)]))
            raise AddressRefused(f"{self.base_url}: {reason}") from None

    def _warn(self, message: str, *args: object) -> None:
        logger.log(self.log_level, message, *args)

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** attempt))

    def _pause(self, seconds: float) -> None:
        if self.deadline is not None:  # no backoff outlasts the stream's deadline
            seconds = min(seconds, max(0.0, self.deadline.left()))
        if self.on_wait is not None:
            self.on_wait(seconds)
        self.sleep(seconds)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Parsed JSON of GET `path` (`request`)."""
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None,
             params: Mapping[str, Any] | None = None) -> Any:
        """Parsed JSON of POST `path` with `json` as its body (`request`)."""
        return self.request("POST", path, params=params, json=json)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None) -> Any:
        """Parsed JSON of `method` `path` with the query `params` and the JSON body `json`
        (none when None); raises a typed UpstreamError once retries are spent."""
        call = Call(method.upper(), path, params, json)

        def parsed(body: BoundedBody) -> Any:
            try:
                content = self._read(body, call)
            finally:
                body.close()
            return self._handle(body.resp, content, call)

        return self._attempts(call, parsed, self.limits)

    def open_stream(self, path: str, params: Mapping[str, Any] | None = None, *,
                    method: str = "GET", json: Any = None) -> BoundedBody:
        """The decoded body of a 2xx answer to `method` `path` as a file, not read yet.

        For bodies too large to hold (Origins' call_stats): errors, retries and the budget
        are those of `request`, the bounds `stream_limits`; the caller reads and closes it.
        """
        call = Call(method.upper(), path, params, json)

        def opened(body: BoundedBody) -> BoundedBody:
            if 200 <= body.resp.status_code < 300:
                return body
            try:
                content = self._read(body, call)
            finally:
                body.close()
            self._handle(body.resp, content, call)  # raises the typed error of a non-2xx
            raise AssertionError("unreachable")  # pragma: no cover

        return self._attempts(call, opened, self.stream_limits)

    def _read(self, body: BoundedBody, call: Call) -> bytes:
        """The whole (bounded) body; a body that breaks off is a retryable UpstreamError."""
        try:
            return body.read_all()
        except READ_ERRORS as exc:
            raise UpstreamError(f"{call.line}: the body broke off ({type(exc).__name__})",
                                path=call.path) from None

    def _attempts(self, call: Call, handle: Callable[[BoundedBody], Any],
                  limits: Limits) -> Any:
        """`_tries`, with an answer cut short by the stream's deadline said as such."""
        try:
            return self._tries(call, handle, limits)
        except AnswerTooSlow:
            if self.deadline is not None and self.deadline.passed:
                self.deadline.check(call.line, call.path)
            raise

    def _ticket(self, where: str, path: str, limits: Limits) -> Limits:
        """Wait for the budget's next request; the bounds of its answer (within the stream's
        deadline, which the wait on our own budget does not count against)."""
        if self.budget is not None:
            waited = time.monotonic()
            self.budget.acquire(self.on_wait)
            if self.deadline is not None:
                self.deadline.exclude(time.monotonic() - waited)
        if self.deadline is None:
            return limits
        self.deadline.check(where, path)
        return self.deadline.bound(limits)

    def _tries(self, call: Call, handle: Callable[[BoundedBody], Any], limits: Limits) -> Any:
        path, where = call.path, call.line
        url = f"{self.base_url}/{path.lstrip('/')}"
        self.check_address()
        last: UpstreamError | None = None
        unreachable = 0
        body_kwargs = {} if call.json is None else {"json": call.json}
        for attempt in range(self.max_attempts):
            bounded = self._ticket(where, path, limits)
            self.requests += 1
            try:
                body = send(self.session, call.method, url, bounded, params=call.params,
                            path=path, where=where, timeout=self.timeout, **body_kwargs)
                if self.budget is not None:
                    self.budget.observe(body.resp.headers)  # the upstream's X-RateLimit-*
            except requests.RequestException as exc:
                reason = unreachable_reason(exc)
                if reason is not None:
                    unreachable += 1
                    if unreachable >= UNREACHABLE_ATTEMPTS:
                        raise UpstreamError(f"{where}: cannot reach {_host_port(url)} "
                                            f"({reason})", path=path) from None
                # The exception text may carry the URL (never headers); keep only its class.
                last = UpstreamError(f"{where}: {type(exc).__name__}", path=path)
                self._warn("upstream %s failed (%s), attempt %d", where,
                           type(exc).__name__, attempt + 1)
                self.retries += 1
                self._pause(self._backoff(attempt))
                continue
            try:
                return handle(body)
            except RateLimited as exc:
                last = exc
                wait = exc.retry_after if exc.retry_after is not None else self._backoff(attempt)
                self.retries += 1
                self._pause(min(wait, self.retry_after_cap) + random.uniform(0, 0.25))
            except UpstreamError as exc:
                if not exc.retryable:
                    self._warn("upstream %s: %s", where, exc)
                    raise
                last = exc
                self._warn("upstream %s: %s (attempt %d)", where, exc, attempt + 1)
                self.retries += 1
                self._pause(self._backoff(attempt))
        assert last is not None
        raise last

    def backoff_pause(self, attempt: int) -> None:
        """Wait as between two attempts (a stream read again after it broke off)."""
        self.retries += 1
        self._pause(self._backoff(attempt))

    def _handle(self, resp: requests.Response, body: bytes, call: Call) -> Any:
        """The parsed JSON of a 2xx, else the typed error for the status.

        What an exception says (and so what users see on the sync page) and what is logged
        is the status, the content type and the size only, never the body: an upstream
        address could be any service. Its kind and a short hash tell cases apart.
        """
        status = resp.status_code
        if 200 <= status < 300:
            try:
                return fast_json.loads(body)  # parsed once: a page's only cost here
            except ValueError:
                pass
        path = call.path
        content_type = resp.headers.get("Content-Type", "")
        where = f"{call.method} {self.base_url}/{path.lstrip('/')}"
        described = describe(resp, len(body))
        kind, digest = body_kind(body, content_type), body_digest(body)
        if 200 <= status < 300:
            raise BadResponse(f"{where}: HTTP {status} with an unreadable body "
                              f"({described})", status=status, path=path,
                              body_kind=kind, body_digest=digest)
        text = f"{where}: HTTP {status} ({described})"
        kwargs = {"status": status, "path": path, "body_kind": kind, "body_digest": digest}
        if 300 <= status < 400:
            target = urljoin(resp.url or where, resp.headers.get("Location", ""))
            elsewhere = _host(target) != _host(self.base_url)
            raise Redirected(f"{where}: redirected{' to another host' if elsewhere else ''} "
                             f"(HTTP {status}); redirects are not followed, give the address "
                             f"that answers", **kwargs)
        if status in (401, 403):
            raise AuthError(f"{where}: the upstream rejected the token (HTTP {status}, "
                            f"{described})", **kwargs)
        if status == 404:
            raise NotFound(text, **kwargs)
        if status in (400, 422):
            raise ValidationError(text, **kwargs)
        if status == 429:
            raise RateLimited(text, retry_after=_retry_after(resp.headers.get("Retry-After")),
                              **kwargs)
        if status >= 500:
            raise UpstreamError(text, **kwargs)
        raise ValidationError(text, **kwargs)


def describe(resp: requests.Response, size: int) -> str:
    """"application/json, 57 bytes": what may be said of a response without quoting it."""
    content_type = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
    return f"{content_type or 'no content type'}, {size} bytes"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
