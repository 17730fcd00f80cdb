"""demo: set up the demo organisation and user, then (optionally) serve the portal."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from portal import audit
from portal.models import Membership, Organization, Role

DEMO_ORG = {"slug": "acme", "name": "Acme Voice", "timezone": "America/Sao_Paulo"}


def ensure_demo_org() -> Organization:
    org, _ = Organization.objects.get_or_create(
        slug=DEMO_ORG["slug"],
        defaults={"name": DEMO_ORG["name"], "timezone": DEMO_ORG["timezone"]},
    )
    user, created = get_user_model().objects.get_or_create(
        username="demo", defaults={"email": "demo@example.com"}
    )
    if created:
        user.set_password("demo")
        user.save(update_fields=["password"])
    _, new = Membership.objects.get_or_create(
        user=user, organization=org, defaults={"role": Role.OWNER}
    )
    if new:
        audit.record("member.added", organization=org, username="demo", role=Role.OWNER)
    return org


class Command(BaseCommand):
    help = "Create the demo organisation (Acme Voice) with user demo/demo, then serve if asked."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--serve", metavar="ADDR:PORT", default="",
                            help="After setting up, serve the portal here (e.g. 127.0.0.1:8000).")

    def handle(self, serve: str, **options) -> None:
        org = ensure_demo_org()
        self.stdout.write(f"Demo organisation: {org.name} ({org.timezone}); log in as demo / demo")
        if serve:
            self.stdout.write(f"Serving the portal on http://{serve}/ (Ctrl-C to stop)")
            call_command("runserver", serve, use_reloader=False)
