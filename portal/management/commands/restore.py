"""manage.py restore FILE --yes: replace the database with a backup (portal/backup.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import redis_guard
from portal.backup import BackupError, restore
from portal.cache_scope import report_prefix


class Command(BaseCommand):
    help = ("Replace everything in the database with the backup FILE (made by `manage.py "
            "backup`), in one transaction: a restore that fails changes nothing. Asks first "
            "unless --yes; with no terminal to ask on, refuses without --yes. Stop the "
            "workers and the beat first; the same FIELD_ENCRYPTION_KEYS must be configured. "
            "Then run `manage.py migrate` (a backup from an older release) and a sync: what "
            "the upstream changed since the backup is read again.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE",
                            help="A dump written by manage.py backup.")
        parser.add_argument("--yes", action="store_true",
                            help="Do not ask: replace the database's contents.")

    def handle(self, *, file: Path, yes: bool, **options) -> None:
        name = settings.DATABASES["default"]["NAME"]
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError(f"restore replaces everything in database {name}: run it "
                                   "with --yes (no terminal to ask on).")
            answer = input(f"Replace everything in database {name} with {file}? "
                           f"Type the database's name to go on: ")
            if answer.strip() != name:
                raise CommandError("Not restored: the name typed was not the database's.")
        try:
            done = restore(file, self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        forgotten = _forget_cached_reports()
        self.stdout.write(f"Restored {file} into {name} in {done['seconds']:.1f} s"
                          f"{f'; {forgotten} cached report(s) dropped' if forgotten else ''}.")


def _forget_cached_reports() -> int:
    """Reports and pages cached after the backup was taken are keyed by data versions the
    restored rows may reach again with other data: they go (from Redis, or from the restored
    cache table, where they were consistent anyway). Only the restored database's: another
    one's (the live deployment beside a rehearsal) share Redis, not rows."""
    return redis_guard.purge_containing(f":{report_prefix()}")
