"""Ctrl-C and SIGTERM on any management command: one line, runs marked stopped, 130 / 143.

One mechanism for every command run from the shell (`portal.cli.install` wraps each): both
signals raise `Interrupted` (a KeyboardInterrupt, so code that cleans up on Ctrl-C does the
same on SIGTERM) in the main thread; when the command ends by it — or by a `SystemExit` of
code that caught it (runserver exits 0 on Ctrl-C) — `command_interrupted` is sent, so the
sync marks the runs this process had under way stopped at once (not a heartbeat timeout
later) and frees their environments, then one line goes to standard error and the process
exits 128 + the signal's number, as a shell reports a process a signal ended.
"""
from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import NoReturn, TextIO

from portal.signals import command_interrupted

logger = logging.getLogger("portal.interrupts")

NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
_received: list[int] = []
_terminal: list[TextIO] = []  # where the line goes when not standard error


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop. `detail` is what the command adds to its line."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.detail = ""


def _raise(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)
    raise Interrupted(signum)


def install() -> None:
    """Both signals raise `Interrupted` from now on (the main thread only can set them)."""
    _received.clear()
    try:
        for signum in NAMES:
            signal.signal(signum, _raise)
    except ValueError:  # not the main thread: the caller's own handlers stay
        pass


def tell(terminal: TextIO) -> None:
    """Say the stop line on `terminal`: a command that sent its standard error to a log."""
    _terminal[:] = [terminal]


def received() -> int | None:
    """The signal that interrupted this command, if one did."""
    return _received[0] if _received else None


def stop(signum: int, detail: str = "") -> NoReturn:
    """Mark what this process had under way stopped, say so in one line, exit 128 + signum."""
    for signum_ in NAMES:  # a second Ctrl-C while stopping does not cut the line short
        signal.signal(signum_, signal.SIG_IGN)
    stopped = []
    for _receiver, said in command_interrupted.send_robust(sender=None, signum=signum):
        if isinstance(said, Exception):
            logger.warning("stopping after %s: %s", NAMES.get(signum, signum),
                           type(said).__name__)
        elif said:
            stopped.append(str(said))
    parts = [part for part in (detail, *stopped) if part]
    sys.stdout.flush()
    out = _terminal[0] if _terminal else sys.stderr
    out.write(f"Stopped by {NAMES.get(signum, f'signal {signum}')}"
              f"{': ' + '; '.join(parts) if parts else ''}.\n")
    out.flush()
    sys.exit(128 + signum)
