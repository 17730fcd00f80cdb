"""Structured logging: one JSON object per line in production, readable lines in development.

Every line carries the request id and, inside sync and report work, the organisation and
environment ids, taken from a context variable that the request-id middleware and the Celery
task hooks set (`log_context` sets it explicitly). Every line also goes through `redact`, so a
bearer token, an Authorization header or a password that slipped into a message or a
traceback is masked before it reaches a log collector.

Kept free of Django imports: settings.py builds LOGGING from `logging_config` before Django
is set up.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from portal.envconfig import env_bool, env_str

CONTEXT_FIELDS = ("request_id", "organization_id", "environment_id", "task")
REDACTED = "[REDACTED]"

# Values are never mutated, only replaced, so one shared empty default is safe.
_EMPTY: dict[str, Any] = {}
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "switchboard_log_context", default=_EMPTY  # noqa: B039
)

# Order matters: header-like and key=value patterns first, so their whole value goes, then
# anything token-shaped that is left in free text.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?)[^\"'\n,}]+"),
     rf"\1{REDACTED}"),
    (re.compile(r"(?i)(\b(?:cookie|set-cookie)\b[\"']?\s*[:=]\s*[\"']?)[^\"'\n}]+"),
     rf"\1{REDACTED}"),
    (re.compile(r"(?i)(\b(?:password|passwd|pwd|secret|secret_key|api[_-]?key|token|"
                r"access_token|refresh_token)\b[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;}&]+"),
     rf"\1{REDACTED}"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+"), f"Bearer {REDACTED}"),
    (re.compile(r"\b(talq|sbp)_[A-Za-z0-9_\-]{4,}"), rf"\1_{REDACTED}"),
    # Credentials inside URLs (redis://:pw@host, postgres://user:pw@host, smtp://u:p@host).
    (re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
]


def redact(text: str) -> str:
    """Mask bearer tokens, Authorization/Cookie headers, passwords and URL credentials."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def current_context() -> dict[str, Any]:
    """The fields (request id, organisation, environment, task) bound to this context."""
    return dict(_context.get())


def bind_context(**fields: Any) -> contextvars.Token:
    """Add fields to the log context; pass the returned token to `unbind_context`."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    return _context.set(merged)


def unbind_context(token: contextvars.Token) -> None:
    """Restore the log context as it was before the matching `bind_context`."""
    _context.reset(token)


@contextmanager
def log_context(environment: Any = None, **fields: Any) -> Iterator[None]:
    """Bind fields for the lines logged inside the block.

    `log_context(environment=env)` binds both the environment and its organisation id, which
    is how sync and report code should label their work.
    """
    if environment is not None:
        fields.setdefault("environment_id", environment.pk)
        fields.setdefault("organization_id", environment.organization_id)
    token = bind_context(**fields)
    try:
        yield
    finally:
        unbind_context(token)


class ContextFilter(logging.Filter):
    """Copy the bound context onto every record (explicit `extra=` values win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for field in CONTEXT_FIELDS:
            if getattr(record, field, None) is None:
                setattr(record, field, context.get(field))
        return True


def _traceback(exc_info: Any) -> str:
    """The traceback, its database errors said by kind and position (`portal.error_text`)."""
    from portal.error_text import safe_traceback

    return safe_traceback(exc_info).rstrip("\n")


def _without_database_values(message: str, exc_info: Any) -> str:
    """`message` with the text of the logged database error left out, where a caller put it
    in already formatted (Celery's "Task … raised unexpected: DataError('…')")."""
    from portal.error_text import database_error, database_error_text

    error = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None
    found = database_error(error) if isinstance(error, BaseException) else None
    while found is not None:
        said = str(found)
        if said:
            message = message.replace(repr(found), database_error_text(found))
            message = message.replace(said, database_error_text(found))
        cause = found.__cause__ or found.__context__
        found = database_error(cause) if cause is not None else None
    return message


class RedactionFilter(logging.Filter):
    """Mask secrets in the message, its arguments and any traceback before formatting; a
    database error (which quotes values: call data) is said by its kind and position."""

    def filter(self, record: logging.LogRecord) -> bool:
        from portal.error_text import database_error, database_error_text

        if isinstance(record.args, tuple):  # a database error said by its kind only
            record.args = tuple(
                database_error_text(a) if isinstance(a, BaseException) and database_error(a)
                else a for a in record.args)
        record.msg = redact(_without_database_values(record.getMessage(), record.exc_info))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_STANDARD_ATTRS = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message", "asctime", *CONTEXT_FIELDS,
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """Fields passed with `extra=` (anything not a standard LogRecord attribute)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and k[0] != "_"}


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, context ids, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for field in CONTEXT_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                payload[field] = value
        for key, value in _extras(record).items():
            payload.setdefault(key, _json_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback(record.exc_info)
        if record.exc_text:
            payload["exc"] = redact(record.exc_text)
        return json.dumps(payload, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """Readable development lines: time, level, logger, [context ids], message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(ctx)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        labels = {"request_id": "req", "organization_id": "org", "environment_id": "env",
                  "task": "task"}
        parts = [f"{labels[f]}={getattr(record, f)}" for f in CONTEXT_FIELDS
                 if getattr(record, f, None) is not None]
        record.ctx = f" [{' '.join(parts)}]" if parts else ""
        return redact(super().format(record))

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return _traceback(ei)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING dict: one console handler, context + redaction filters, chosen format."""
    if log_format not in {"json", "plain"}:
        raise ValueError(f"LOG_FORMAT must be json or plain, not {log_format!r}")
    quiet = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "portal.logging.ContextFilter"},
            "redact": {"()": "portal.logging.RedactionFilter"},
        },
        "formatters": {
            "json": {"()": "portal.logging.JsonFormatter"},
            "plain": {"()": "portal.logging.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "redact"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Re-declared so Django's own console handler is dropped (no doubled lines).
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.server": {"handlers": [], "level": level, "propagate": True},
            "django.db.backends": quiet,
            "urllib3": quiet,
            "gunicorn.error": {"handlers": [], "level": level, "propagate": True},
            # RequestIdMiddleware logs each request with its id; gunicorn's line would double it.
            "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }


def logging_config_from_env() -> dict[str, Any]:
    """LOGGING from LOG_FORMAT (default: json unless DEBUG is true) and LOG_LEVEL."""
    debug = env_bool("DEBUG", True)
    return logging_config(env_str("LOG_FORMAT", "plain" if debug else "json"),
                          env_str("LOG_LEVEL", "INFO"))


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
_QUIET_PATHS = ("/healthz", "/readyz", "/static/")
request_logger = logging.getLogger("portal.request")


class RequestIdMiddleware:
    """Give every request an id (a sane incoming X-Request-ID, else a new one), bind it to
    the log context, echo it in the response and log one line per request."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = bind_context(request_id=request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            unbind_context(token)

    @staticmethod
    def _log(request: Any, status: int, started: float) -> None:
        level = logging.DEBUG if request.path.startswith(_QUIET_PATHS) else logging.INFO
        request_logger.log(
            level, "%s %s %s", request.method, request.path, status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": _known_user_id(request),
            },
        )


def _known_user_id(request: Any) -> int | None:
    """The signed-in user's id, if the request already knows who it is.

    `request.user` is lazy: reading it here when the view never did would load the session
    and the user now, after the answer was made. With a frozen database that was a second
    wait on it and a 500 in place of the view's 503; so an unread (or failed) lookup is not
    redone, and the line says no user.
    """
    from django.db import DatabaseError  # here: settings import this module
    from django.utils.functional import SimpleLazyObject, empty

    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    try:
        return user.pk if user.is_authenticated else None
    except DatabaseError:
        return None
