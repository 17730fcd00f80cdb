"""What may be said of an error: its kind and position, never the data it carries.

A database error's message quotes values ("invalid input syntax for type integer: …", a
COPY line, "Failing row contains (…)"): call data, possibly a caller's number. Before an
error reaches a terminal, a run's error or a log, it is reduced here to its class, its
SQLSTATE and where it happened (table, column, constraint: schema names, never values; the
statement position). Upstream errors never carry a body (`sync.providers.http`).
"""
from __future__ import annotations

import traceback
from typing import Any

import django.db
import psycopg


def database_error(exc: BaseException) -> BaseException | None:
    """The database driver's or Django's error in `exc` or what caused it, if any."""
    kinds = (psycopg.Error, django.db.Error)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return current
        current = current.__cause__ or current.__context__
    return None


def database_error_text(exc: BaseException) -> str:
    """"DataError (SQLSTATE 22P02; table sync_call, column duration)": kind and position."""
    found = database_error(exc) or exc
    cause = found.__cause__ if getattr(found, "diag", None) is None else found
    diag = getattr(cause, "diag", None)
    code = getattr(cause, "sqlstate", None) or getattr(diag, "sqlstate", None)
    where = []
    for label, name in (("table", "table_name"), ("column", "column_name"),
                        ("constraint", "constraint_name"),
                        ("statement position", "statement_position")):
        value = getattr(diag, name, None)
        if value:
            where.append(f"{label} {value}")
    detail = "; ".join(([f"SQLSTATE {code}"] if code else []) + where)
    # The driver's class names the condition ("LockNotAvailable"); Django's wrapper only
    # its family ("OperationalError").
    kind = type(cause if isinstance(cause, psycopg.Error) else found).__name__
    return f"{kind}{f' ({detail})' if detail else ''}"


def safe_error_text(exc: BaseException) -> str:
    """`Class: message`, or only the kind and position when a database error is involved."""
    if database_error(exc) is not None:
        return database_error_text(exc)
    return f"{type(exc).__name__}: {exc}"


def safe_traceback(exc_info: Any) -> str:
    """A formatted traceback whose database errors say their kind and position only."""
    _type, value, tb = exc_info
    if value is None or database_error(value) is None:
        return "".join(traceback.format_exception(_type, value, tb))
    formatted = traceback.TracebackException(_type, value, tb)
    chain: list[traceback.TracebackException] = []
    exc_chain: list[BaseException] = []
    te, ex = formatted, value
    while te is not None and ex is not None:
        chain.append(te)
        exc_chain.append(ex)
        if te.__cause__ is not None:
            te, ex = te.__cause__, ex.__cause__
        elif te.__context__ is not None and not te.__suppress_context__:
            te, ex = te.__context__, ex.__context__
        else:
            break
    for te_, ex_ in zip(chain, exc_chain, strict=True):
        if database_error(ex_) is ex_:
            te_._str = database_error_text(ex_)  # the message, kept out
    return "".join(formatted.format())
