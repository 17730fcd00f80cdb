"""The cyclic garbage collector paused while Django starts a command.

Starting Django (settings, every app's models, admin and ready hooks) makes a few hundred
thousand objects that live as long as the process; while they are made the collector
traverses them again and again (~0.1 s of CPU per `manage.py` command: docs/testing.md,
"Where the CPU goes"). `manage.py` turns it off first thing (`gc.disable`, before anything
is imported); the last installed app's `ready` (`reports.apps.ReportsConfig`) calls
`resume`. Nothing leaks: reference counting frees objects as before, and what start-up made
is set aside (`gc.freeze`, as `sync.collector` does for a run) rather than traversed by the
first collections after it.
"""
from __future__ import annotations

import gc


def resume() -> None:
    """Collect automatically again, with what start-up made set aside; no-op when on."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
