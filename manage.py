#!/usr/bin/env python
"""Django's command-line utility for Switchboard."""
from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    from django.apps import apps

    if not apps.ready:  # a second main() in one process starts nothing: nothing to resume it
        gc.disable()  # while Django starts, until the apps are ready: portal/startup_gc.py
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    from portal import cli, envconfig

    envconfig.help_only = envconfig.asks_for_help(sys.argv)  # `--help` starts nothing
    cli.install()  # every command's errors: one "Error: …" line

    try:
        execute_from_command_line(sys.argv)
    except DatabaseError as exc:
        # Before `migrate`, every command would die on a missing table: say so in one line.
        from portal.dbready import MESSAGE, is_unavailable, not_migrated

        if "migrate" in sys.argv[1:2] or is_unavailable(exc) or not not_migrated():
            # Its message may quote values (call data): its kind and position only.
            from portal.error_text import database_error_text

            cli.fail(f"database error: {database_error_text(exc)}")
        cli.fail(MESSAGE)


if __name__ == "__main__":
    main()
