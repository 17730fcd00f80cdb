"""issuetoken USERNAME [--name LABEL] [--expires-days N]"""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal import audit
from portal.models import ApiToken


class Command(BaseCommand):
    help = "Issue a personal API token; its value is printed once and never stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="Whose token it is.")
        parser.add_argument("--name", default="cli", help="A label to tell tokens apart.")
        parser.add_argument("--expires-days", type=int, default=None,
                            help="Days until it expires (default: never).")

    def handle(self, username: str, name: str, expires_days: int | None, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, raw = ApiToken.issue(user, name=name, expires_at=expires)
        audit.record("api_token.created", actor=user, target=token, name=name)
        self.stdout.write(raw)
