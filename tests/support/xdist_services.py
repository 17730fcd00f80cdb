"""Per-worker services when the suite runs on several cores (`pytest -n`, pytest-xdist).

Loaded as a plugin (`-p tests.support.xdist_services` in pyproject's addopts) so it runs before
pytest-django reads the settings: each xdist worker gets its own Redis database, REDIS_URL's
number + 4·(n+1), so one worker's `cache.clear()` never wipes another's locks, budgets or
cached reports (and `tests/support/processes.py`'s scratch Redis, +2, stays apart too). PostgreSQL
needs nothing here: pytest-django already gives each worker its own test database.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL for xdist worker `gwN`: the same server, database number + 4·(N+1) mod 16."""
    n = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    base = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + 4 * (n + 1)) % 16}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
