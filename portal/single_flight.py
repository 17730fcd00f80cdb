"""One run at a time per name, on a daemon thread: checks of a service that may hang.

A readiness check (`portal.health`) or a replica's lag check (`portal.replica_health`) is
waited for with a deadline, and a frozen service keeps its check waiting past it. A caller that
comes while a check of the same name still runs gets that run's future instead of a new thread,
so checks against a frozen service never pile up threads."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Runs `work` for a name on a daemon thread named `<prefix>-<name>`, one at a time."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._lock = threading.Lock()
        self._running: dict[str, Future] = {}

    def run(self, name: str, work: Callable[[], T]) -> Future:
        """The run of `name` still going, else `work` started on a thread of its own."""
        with self._lock:
            running = self._running.get(name)
            if running is not None and not running.done():
                return running
            future: Future = Future()
            self._running[name] = future

        def target() -> None:
            try:
                future.set_result(work())
            except BaseException as exc:  # noqa: BLE001  (handed to whoever waits)
                future.set_exception(exc)

        threading.Thread(target=target, name=f"{self.prefix}-{name}", daemon=True).start()
        return future
