"""The cyclic garbage collector paused while Django starts a command.

Starting Django (settings, every app's models, admin and ready hooks) makes ~210,000
objects that live as long as the process; while they are made the collector traverses them
again and again, and once more in the full collection Python makes as the process exits
(~0.25 s of CPU per `manage.py` command together: docs/testing.md, "Where the CPU goes").
`manage.py` and `portal/wsgi.py` turn it off before Django starts (`gc.disable`); the last
installed app's `ready` (`reports.apps.ReportsConfig`) calls `resume`, which sets what
start-up made aside (`gc.freeze`, as `sync.collector` does for a run) and turns it on again.
Reference counting frees objects as before; the few thousand objects of reference cycles
start-up leaves are kept (set aside with the rest) instead of collected.
"""
from __future__ import annotations

import gc


def resume() -> None:
    """Collect automatically again, with what start-up made set aside; no-op when on."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
