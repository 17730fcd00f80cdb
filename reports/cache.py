"""Report caching keyed by organisation and each environment's data version: one key scheme.

Every report result is cached under `report_key(kind, environments, params)`, and each kind's
params come from one place (`reports.scope`), so the same summary has one key whichever face
asked. A face that serves a ready rendering of a result (the reports API's JSON) keeps it
under the same key plus a variant (`cached_rendering`): a cached request then sends those
bytes as they are, without unpickling the summary or serialising it again.

`Environment.data_version` lives on the environment row and is bumped by every sync that
changed the mirror; `last_synced_at` moves with every sync, which may have read new days
(coverage) without changing data. Keys are built from versions read in the same request, so
once a sync commits, no process can reach an entry computed before it: stale entries are not
deleted, they become unreachable and expire.

The cache is an optimisation: when it fails (or failed moments ago) the report is computed
and served uncached (portal/redis_guard.py), never a 500 and never a wait on a frozen Redis.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpResponse

from portal import redis_guard
from portal.models import Environment
from portal.tenancy.restriction import active as active_restriction

T = TypeVar("T")
# 2: summaries carry their coverage; entries of the old shape are never read.
KEY_VERSION = 2


def report_cache_seconds() -> int:
    return int(getattr(settings, "REPORT_CACHE_SECONDS", 6 * 3600))


def report_key(kind: str, environments: Sequence[Environment], params: dict[str, Any]) -> str:
    """The cache key of one report: kind, organisation, every (environment, version), params."""
    envs = sorted(environments, key=lambda e: e.pk)
    org_ids = sorted({e.organization_id for e in envs})
    # The last sync too: a sync that read new days without new data still moves coverage.
    versions = ",".join(f"{e.pk}.{e.data_version}.{_synced(e)}" for e in envs)
    digest = hashlib.sha256(
        json.dumps(params, sort_keys=True, default=str).encode()
    ).hexdigest()[:32]
    # A member restricted to teams reads other figures than the organisation's: their own key.
    restriction = active_restriction()
    teams = f":t{restriction.fingerprint}" if restriction is not None else ""
    return (f"report:v{KEY_VERSION}:{kind}:org{'-'.join(map(str, org_ids))}:{versions}:"
            f"{digest}{teams}")


def _synced(env: Environment) -> int:
    return int(env.last_synced_at.timestamp()) if env.last_synced_at else 0


def cached_report(kind: str, environments: Sequence[Environment], params: dict[str, Any],
                  compute: Callable[[], T],
                  read: Callable[[str], object | None] | None = None) -> T:
    """`compute()` once per (organisation, data versions, params); the cached value after.
    `read` reads the key instead of a plain cache read (the API's throttle rides on it)."""
    key = report_key(kind, environments, params)
    value = (read or _read_report)(key)
    if value is None:
        value = compute()
        redis_guard.cache_set("report cache", key, value, report_cache_seconds())
    return value


def cached_rendering(kind: str, environments: Sequence[Environment], params: dict[str, Any],
                     variant: str, render: Callable[[], bytes],
                     read: Callable[[str], object | None] | None = None) -> bytes:
    """The bytes `render()` gives for one report result, kept under the report's key plus
    `variant` (what else the bytes depend on: format, freshness flags). Computed on a miss.
    `read` reads the key instead of a plain cache read (the API's throttle rides on it)."""
    digest = hashlib.sha256(variant.encode()).hexdigest()[:16]
    key = f"{report_key(kind, environments, params)}:r{digest}"
    body = (read or _read_report)(key)
    if not isinstance(body, bytes):
        body = render()
        redis_guard.cache_set("report cache", key, body, report_cache_seconds())
    return body


def _read_report(key: str) -> object | None:
    return redis_guard.cache_get("report cache", key)


def rendered_response(body: bytes, content_type: str = "application/json") -> HttpResponse:
    """A response carrying already rendered bytes (no serialiser, no renderer on the way)."""
    return HttpResponse(body, content_type=content_type)


def page_key(kind: str, environments: Sequence[Environment], params: dict[str, Any],
             variant: str) -> str:
    """The key of a rendered page part: the report's key (so a sync that changes the mirror
    makes it unreachable) plus `variant`, what else the HTML depends on (language, query)."""
    digest = hashlib.sha256(variant.encode()).hexdigest()[:16]
    return f"{report_key(kind, environments, params)}:p{digest}"


def read_page(key: str) -> str | None:
    """A rendered page part kept under `key`, or None (missing, or the cache is failing)."""
    html = redis_guard.cache_get("page cache", key)
    return html if isinstance(html, str) else None


def keep_page(key: str, html: str) -> None:
    """Keep a rendered page part; a failing cache only means the next request renders it."""
    redis_guard.cache_set("page cache", key, html, report_cache_seconds())
