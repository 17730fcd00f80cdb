"""What a vendor's simulator modules read from the simulator that serves them.

The plug-ins (`sync.simulator.plugins`) and `api`/`server` answer for a `core.Simulator`,
which builds and owns them: they name the few members they use here instead of importing
`core`, so the simulator's modules import each other one way only (no cycle).
"""
from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any, Protocol


class Stores(Protocol):
    """The clock and the per-environment stores, read under `lock`."""

    lock: threading.RLock

    def now_ts(self) -> int: ...

    @property
    def now(self) -> datetime: ...

    @property
    def today(self) -> date: ...

    def store(self, env: str, vendor: str | None = None) -> Any: ...
