"""createorg SLUG --name NAME [--timezone TZ]"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from portal import audit
from portal.models import Organization, validate_timezone


class Command(BaseCommand):
    help = "Create an organisation."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="Short name in URLs (/o/<slug>/): letters, digits, -.")
        parser.add_argument("--name", required=True, help="The name people read.")
        parser.add_argument("--timezone", default="UTC", help="IANA name, e.g. America/Sao_Paulo")

    def handle(self, slug: str, name: str, timezone: str, **options) -> None:
        if slugify(slug) != slug:
            raise CommandError(f"{slug!r} is not a valid slug (lowercase letters, digits, '-').")
        try:
            validate_timezone(timezone)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"An organisation with slug {slug!r} already exists.")
        org = Organization.objects.create(slug=slug, name=name, timezone=timezone)
        audit.record("organization.created", organization=org, target=org)
        self.stdout.write(f"Created organisation {org.slug} ({org.name}, {org.timezone}).")
