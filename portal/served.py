"""Where a locally served portal can be reached, for commands run beside it.

`manage.py demo --serve ADDR:PORT` writes `var/served.json` (its address and process id) and
removes it when it stops; `send_summaries` and the other commands that write links read it,
so an email written by a command while the demo serves on port 8123 links to port 8123, not
to the default 8000. `PORTAL_BASE_URL`, when set, always wins; a file left by a process that
is gone is ignored.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings


def _path() -> Path:
    return Path(settings.VAR_DIR) / "served.json"


def announce(base_url: str) -> Path:
    """Say that this process serves the portal at `base_url` (until `withdraw`)."""
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"base_url": base_url, "pid": os.getpid()}))
    return path


def withdraw() -> None:
    path = _path()
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def served_base_url() -> str | None:
    """The address a running local portal announced, or None (none, or it stopped)."""
    try:
        found = json.loads(_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or not _alive(found.get("pid")):
        return None
    url = found.get("base_url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def use_served_base_url() -> str:
    """Point this process's links at the announced address unless PORTAL_BASE_URL was set."""
    if not os.environ.get("PORTAL_BASE_URL"):
        found = served_base_url()
        if found:
            settings.PORTAL_BASE_URL = found
    return settings.PORTAL_BASE_URL
