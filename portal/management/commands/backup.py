"""manage.py backup FILE: the whole database in PostgreSQL's custom format (portal/backup.py)."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup import BackupError, backup


class Command(BaseCommand):
    help = ("Back up the whole database to FILE (pg_dump's custom format; restore it with "
            "`manage.py restore FILE`). Tokens stay encrypted and the keys are never in the "
            "file: keep FIELD_ENCRYPTION_KEYS and SECRET_KEY apart, restoring needs them. "
            "One progress line per table; the file appears only once it is whole.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE",
                            help="Where to write the dump (PostgreSQL custom format); written "
                                 "whole or not at all.")

    def handle(self, *, file: Path, **options) -> None:
        if file.is_dir():
            raise CommandError(f"{file} is a directory; name the backup file.")
        try:
            done = backup(file, self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backed up to {file}: {done['bytes'] / 1024 / 1024:.1f} MiB in "
                          f"{done['seconds']:.1f} s.")
