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
from sync.clients.errors import (
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
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
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

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** attempt))

    def _pause(self, seconds: float) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds)
        self.sleep(seconds)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Parsed JSON of GET `path`; raises a typed UpstreamError once retries are spent."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        last: UpstreamError | None = None
        for attempt in range(self.max_attempts):
            if self.budget is not None:
                self.budget.acquire(self.on_wait)
            self.requests += 1
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                # The exception text may carry the URL (never headers); keep only its class.
                last = UpstreamError(f"GET /{path.lstrip('/')}: {type(exc).__name__}", path=path)
                logger.warning("upstream %s %s failed (%s), attempt %d", "GET", path,
                               type(exc).__name__, attempt + 1)
                self.retries += 1
                self._pause(self._backoff(attempt))
                continue
            try:
                return self._handle(resp, path)
            except RateLimited as exc:
                last = exc
                wait = exc.retry_after if exc.retry_after is not None else self._backoff(attempt)
                self.retries += 1
                self._pause(min(wait, self.retry_after_cap) + random.uniform(0, 0.25))
            except UpstreamError as exc:
                if not exc.retryable:
                    raise
                last = exc
                logger.warning("upstream GET %s: %s (attempt %d)", path, exc, attempt + 1)
                self.retries += 1
                self._pause(self._backoff(attempt))
        assert last is not None
        raise last

    def _handle(self, resp: requests.Response, path: str) -> Any:
        status = resp.status_code
        content_type = resp.headers.get("Content-Type", "")
        where = f"GET /{path.lstrip('/')}"
        if 200 <= status < 300:
            try:
                return json.loads(resp.content)
            except ValueError:
                message, _ = error_message(resp.content, content_type)
                raise BadResponse(f"{where}: HTTP {status} with an unreadable body "
                                  f"({len(resp.content)} bytes; {message[:80]})",
                                  status=status, path=path) from None
        message, details = error_message(resp.content, content_type)
        text = f"{where}: HTTP {status}: {message}"
        if status in (401, 403):
            raise AuthError(f"{where}: the upstream rejected the token (HTTP {status}: "
                            f"{message})", status=status, path=path)
        if status == 404:
            raise NotFound(text, status=status, path=path, details=details)
        if status in (400, 422):
            raise ValidationError(text, status=status, path=path, details=details)
        if status == 429:
            raise RateLimited(text, status=status, path=path,
                              retry_after=_retry_after(resp.headers.get("Retry-After")))
        if status >= 500:
            raise UpstreamError(text, status=status, path=path, details=details)
        error = ValidationError(text, status=status, path=path, details=details)
        raise error


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
