"""Progress reporting for long syncs: silent by default, a tqdm bar in commands and the demo."""
from __future__ import annotations

from typing import IO, Protocol

from tqdm import tqdm


class Progress(Protocol):
    """What the engine reports as it goes: one bar per stream."""

    def begin(self, label: str, total: int) -> None: ...
    def step(self, n: int = 1) -> None: ...
    def end(self) -> None: ...


class NullProgress:
    """Reports nothing (schedules, tests)."""

    def begin(self, label: str, total: int) -> None:
        pass

    def step(self, n: int = 1) -> None:
        pass

    def end(self) -> None:
        pass


class TqdmProgress:
    """A tqdm bar per stream on the given stream (a command's stdout)."""

    def __init__(self, file: IO[str], unit: str = "day") -> None:
        self.file, self.unit = file, unit
        self.bar: tqdm | None = None

    def begin(self, label: str, total: int) -> None:
        self.end()
        self.bar = tqdm(total=total, desc=label, unit=self.unit, file=self.file,
                        dynamic_ncols=True, leave=True)

    def step(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
