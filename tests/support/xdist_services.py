"""Per-worker services when the suite runs on several cores (`pytest -n`, pytest-xdist).

Loaded as a plugin (`-p tests.support.xdist_services` in pyproject's addopts) so it runs before
pytest-django reads the settings: each xdist worker gets its own Redis database, REDIS_URL's
number + 4·(n+1), so one worker's `cache.clear()` never wipes another's locks, budgets or
cached reports (and `tests/support/processes.py`'s scratch Redis, +2, stays apart too). PostgreSQL
needs nothing here: pytest-django already gives each worker its own test database.

And the groups hold: a test marked `xdist_group` must reach the scheduler under its group
(`--dist loadgroup`: pytest-xdist appends "@<group>" to the test's id on the worker). A pytest
whose ids that renaming no longer changes would spread a group over every worker without a
word (its module fixtures set up once per worker, its tests run side by side); the worker
stops instead, saying so.
"""
from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL for xdist worker `gwN`: the same server, database number + 4·(N+1) mod 16."""
    n = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    base = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + 4 * (n + 1)) % 16}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuses a collection whose grouped tests lost their group (see the module's docstring)."""
    if not (_worker and config.getoption("loadgroup", default=False)):
        return
    lost = [item.nodeid for item in items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        message = (f"Error: --dist loadgroup lost the xdist_group of {len(lost)} tests (e.g. "
                   f"{lost[0]}): this pytest and pytest-xdist do not group; install the "
                   "versions pyproject.toml pins (make install).")
        print(message, file=sys.__stderr__, flush=True)  # a worker's exception is not shown
        raise pytest.UsageError(message)
