"""The HTTP core every provider client uses: session, timeouts, budget, retries, errors.

Retries: connection errors, timeouts, 5xx and unparseable 2xx bodies back off exponentially
with full jitter; 429 waits `Retry-After` (capped). 401/403/404/422 are never retried.
Logging names the method, path and query only: the token lives in a session header and is
never formatted into any message.
"""
from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from sync.budget import RequestBudget
from sync.providers.errors import (
    AddressRefused,
    AuthError,
    BadResponse,
    NotFound,
    RateLimited,
    UpstreamError,
    ValidationError,
)

logger = logging.getLogger("sync.http")

USER_AGENT = "Switchboard-sync/1.0"
_TAG = re.compile(r"<[^>]+>")


def error_message(body: bytes, content_type: str) -> tuple[str, object]:
    """The human message and details of an error body, whatever its shape.

    Shapes: {"success": false, "message": …, "errors": {…}}, {"error": {"code", "message",
    "details"}}, {"message": …}, FastAPI {"detail": str | [..]}, HTML pages, plain text.
    """
    try:
        data = json.loads(body)
    except ValueError:
        text = _TAG.sub(" ", body.decode("utf-8", "replace"))
        text = " ".join(text.split())[:200]
        html = "html" in content_type.lower() or body.lstrip()[:1] == b"<"
        kind = "HTML page" if html else "body"
        return (f"non-JSON {kind}: {text}" if text else f"empty {kind}"), None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            code = err.get("code")
            message = str(err.get("message") or code or "error")
            return (f"{message} ({code})" if code else message), err.get("details")
        if "message" in data:
            return str(data["message"]), data.get("errors")
        detail = data.get("detail")
        if isinstance(detail, str):
            return detail, None
        if isinstance(detail, list):
            msgs = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail]
            return "; ".join(msgs), detail
    return f"unexpected error body: {str(data)[:200]}", None


class HttpClient:
    """GET JSON from one upstream with one token, within a shared request budget."""

    def __init__(self, base_url: str, token: str, *, budget: RequestBudget | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0), max_attempts: int = 6,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 retry_after_cap: float = 120.0,
                 on_wait: Callable[[float], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, quiet: bool = False,
                 address_check: Callable[[str], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # A connection test answers its user directly: its failures are not log warnings.
        self.log_level = logging.DEBUG if quiet else logging.WARNING
        # Checked before the first request (not at construction), so a refusal fails a run
        # with its reason; `portal.upstream_url.check_allowed` in production.
        self.address_check = address_check
        self.session = requests.Session()
        self.session.headers.update({
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
        if self.on_wait is not None:
            self.on_wait(seconds)
        self.sleep(seconds)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Parsed JSON of GET `path`; raises a typed UpstreamError once retries are spent."""
        return self._attempts(path, params, lambda resp: self._handle(resp, path))

    def open_stream(self, path: str,
                    params: Mapping[str, Any] | None = None) -> requests.Response:
        """A 2xx response to GET `path` whose body is not read yet (`resp.raw`, decoded).

        For bodies too large to hold (Origins' call_stats): errors, retries and the budget
        are those of `get`; the caller reads the body as a stream and closes the response.
        """
        def opened(resp: requests.Response) -> requests.Response:
            if 200 <= resp.status_code < 300:
                resp.raw.decode_content = True
                return resp
            try:
                self._handle(resp, path)  # raises the typed error of a non-2xx answer
            finally:
                resp.close()
            raise AssertionError("unreachable")  # pragma: no cover

        return self._attempts(path, params, opened, stream=True)

    def _attempts(self, path: str, params: Mapping[str, Any] | None,
                  handle: Callable[[requests.Response], Any], stream: bool = False) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        self.check_address()
        last: UpstreamError | None = None
        for attempt in range(self.max_attempts):
            if self.budget is not None:
                self.budget.acquire(self.on_wait)
            self.requests += 1
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout,
                                        stream=stream)
            except requests.RequestException as exc:
                # The exception text may carry the URL (never headers); keep only its class.
                last = UpstreamError(f"GET /{path.lstrip('/')}: {type(exc).__name__}", path=path)
                self._warn("upstream %s %s failed (%s), attempt %d", "GET", path,
                               type(exc).__name__, attempt + 1)
                self.retries += 1
                self._pause(self._backoff(attempt))
                continue
            try:
                return handle(resp)
            except RateLimited as exc:
                last = exc
                wait = exc.retry_after if exc.retry_after is not None else self._backoff(attempt)
                self.retries += 1
                self._pause(min(wait, self.retry_after_cap) + random.uniform(0, 0.25))
            except UpstreamError as exc:
                if not exc.retryable:
                    raise
                last = exc
                self._warn("upstream GET %s: %s (attempt %d)", path, exc, attempt + 1)
                self.retries += 1
                self._pause(self._backoff(attempt))
        assert last is not None
        raise last

    def backoff_pause(self, attempt: int) -> None:
        """Wait as between two attempts (a stream read again after it broke off)."""
        self.retries += 1
        self._pause(self._backoff(attempt))

    def _handle(self, resp: requests.Response, path: str) -> Any:
        """The parsed JSON of a 2xx, else the typed error for the status.

        What an exception says (and so what users see on the sync page) is the status, the
        content type and the size only, never the body: an upstream address could be any
        service. The envelope's message and a truncated body go to the log and to the
        exception's `upstream_message` for code that needs to tell cases apart.
        """
        status = resp.status_code
        content_type = resp.headers.get("Content-Type", "")
        where = f"GET {self.base_url}/{path.lstrip('/')}"
        described = describe(resp)
        if 200 <= status < 300:
            try:
                return json.loads(resp.content)
            except ValueError:
                message, _ = error_message(resp.content, content_type)
                self._warn("upstream %s: unreadable %s body: %s", where, described,
                               message[:200])
                raise BadResponse(f"{where}: HTTP {status} with an unreadable body "
                                  f"({described})", status=status, path=path) from None
        message, details = error_message(resp.content, content_type)
        self._warn("upstream %s: HTTP %d (%s): %s", where, status, described, message[:200])
        text = f"{where}: HTTP {status} ({described})"
        kwargs = {"status": status, "path": path, "details": details, "upstream_message": message}
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


def describe(resp: requests.Response) -> str:
    """"application/json, 57 bytes": what may be said of a response without quoting it."""
    content_type = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
    return f"{content_type or 'no content type'}, {len(resp.content)} bytes"


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
