"""Signals the sync sends, so the reading side reacts without `sync/` importing `reports/`."""
from __future__ import annotations

from django.dispatch import Signal

# Sent with `environment` and `outcome` (sync.engine.SyncOutcome) after a sync of an
# environment ran streams (not when it was skipped), once its schedule fields are saved.
# The alerts (reports/alerts/receivers.py) evaluate the rules over that environment.
environment_synced = Signal()

# Sent by `manage.py demo` with `organization`, `environments` and `dips` (the simulator's
# volume dips) once the demo's environments are mirrored: the reading side adds what shows
# its features (reports/demo_tour.py: an anomaly rule that finds the dip). Receivers return
# the lines the command prints.
demo_prepared = Signal()
