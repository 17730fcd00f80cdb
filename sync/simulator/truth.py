"""Ground truth: what the HTTP API serves, computed in Python without HTTP (for tests).

Each vendor's plug-in gives its own (`Plugin.truth`); `sim.truth` answers with the methods of
all of them, so `sim.truth.calls(env)` is the truth of the vendor that has `calls`."""
from __future__ import annotations

from typing import Any


class GroundTruth:
    """Read-only views equal to the API's responses at the simulator's current clock."""

    def __init__(self, sim: object, parts: list[object | None]) -> None:
        self._sim = sim
        self._parts = [part for part in parts if part is not None]

    def __getattr__(self, name: str) -> Any:
        for part in self.__dict__.get("_parts", ()):
            if not name.startswith("_") and hasattr(part, name):
                return getattr(part, name)
        raise AttributeError(f"no vendor's ground truth has {name!r}")
