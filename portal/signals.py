"""Signals the tenancy app sends, so the apps that derive data from it react without the
tenancy app importing them (portal/ imports nothing from sync/ or reports/)."""
from __future__ import annotations

from django.dispatch import Signal

# Sent with `organization` after its timezone changed: every reported day is org-local, so
# whoever keeps per-day rows rebuilds them. Receivers return how many environments they
# rebuilt (sync.receivers does the rollups).
organization_timezone_changed = Signal()

# Sent with `signum` when a management command run from the shell is stopped by Ctrl-C or
# SIGTERM (`portal.interrupts`): whoever has work under way in this process marks it stopped
# at once. Receivers return what they stopped, in a few words ("1 sync run marked stopped"),
# or nothing.
command_interrupted = Signal()
