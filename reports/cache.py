"""Report caching keyed by organisation and each environment's data version.

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
from django.core.cache import cache

from portal import redis_guard
from portal.models import Environment

T = TypeVar("T")
# 2: summaries carry their coverage (issue 16); entries of the old shape are never read.
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
    return (f"report:v{KEY_VERSION}:{kind}:org{'-'.join(map(str, org_ids))}:{versions}:"
            f"{digest}")


def _synced(env: Environment) -> int:
    return int(env.last_synced_at.timestamp()) if env.last_synced_at else 0


def cached_report(kind: str, environments: Sequence[Environment], params: dict[str, Any],
                  compute: Callable[[], T]) -> T:
    """`compute()` once per (organisation, data versions, params); the cached value after."""
    key = report_key(kind, environments, params)
    value = redis_guard.optional("report cache", lambda: cache.get(key), None)
    if value is None:
        value = compute()
        redis_guard.optional(
            "report cache", lambda: cache.set(key, value, report_cache_seconds()), None)
    return value
