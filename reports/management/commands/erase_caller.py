"""`manage.py erase_caller ORG --number N [--yes]`: erase a caller (LGPD art. 18, GDPR art. 17).

The same erasure as Settings → Privacy and `POST /api/v1/privacy/erasures/`: the number's
personal fields anonymised in every table and cache, a tombstone for later syncs, an audit
entry and a receipt to the owners. `--number -` reads the number from standard input (a
number in the arguments is visible to `ps` while the command runs).
"""
from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.models import Environment, Organization
from portal.phone import InvalidNumber
from reports.privacy import service
from sync.privacy.erase import subject_of


class Command(BaseCommand):
    help = ("Erase a caller's phone number from an organisation's mirror: numbers, "
            "transcripts, recording links, contexts, rejected records and cached pages; the "
            "calls stay anonymised, so reports keep their totals, and later syncs anonymise "
            "the number's calls as they arrive.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("org", help="The organisation's slug.")
        parser.add_argument("--number", required=True,
                            help="The number in any format (E.164, national in the "
                                 "organisation's country, with spaces, dashes, parentheses); "
                                 "'-' reads it from standard input.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE,
                            help="Language of the owners' receipt (en or pt-br).")

    def handle(self, *args, org: str, number: str, yes: bool = False,
               language: str = "en", **options) -> None:
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with the slug {org!r}.")
        if number == "-":
            number = sys.stdin.readline().strip()
        try:
            subject = subject_of(organization, number)
        except InvalidNumber as exc:
            raise CommandError(str(exc)) from exc
        envs = Environment.objects.for_organization(organization).count()
        if not yes:
            answer = input(f"Erase this caller (hash {subject.hashed[:16]}…) from "
                           f"{organization.name}, {envs} environment{'' if envs == 1 else 's'}? "
                           "This cannot be undone. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Nothing erased.")
        erasure = service.erase(organization, number, source="command", language=language)
        for env in sorted(erasure.environments.values(), key=lambda e: e["name"]):
            self.stdout.write(f"{env['name']}: {env['calls']} call(s) anonymised, "
                              f"{env['mentions']} other call(s) mentioned the number")
        self.stdout.write(f"Erased: {erasure.calls} call(s), {erasure.other_rows} other "
                          f"row(s); number hash {erasure.number_hash}; cached pages "
                          f"{'deleted' if erasure.cache_purged else 'NOT deleted (they expire)'}.")
