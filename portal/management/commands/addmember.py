"""addmember SLUG USERNAME --role ROLE [--team NAME …] [--email E] [--password-stdin]"""
from __future__ import annotations

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from portal import audit
from portal.management.organization_command import OrganizationCommand
from portal.models import RESTRICTABLE_ROLES, Membership, Role, Team


class Command(OrganizationCommand):
    help = "Add a user (created if missing) to an organisation with a role."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("username", help="The user (created when new).")
        parser.add_argument("--role", required=True, choices=Role.values,
                            help="The member's role in the organisation.")
        parser.add_argument(
            "--team", action="append", default=[], metavar="NAME",
            help="Restrict the member to this team's agents (repeatable; analyst or viewer). "
                 "Without --team the member sees the whole organisation.")
        parser.add_argument("--email", default="", help="The user's email address (a new user).")
        parser.add_argument(
            "--password-stdin", action="store_true",
            help="Read the user's password from standard input (never from arguments).",
        )

    @transaction.atomic
    def handle(self, slug: str, username: str, role: str, email: str, **options) -> None:
        org = self.organization(slug)
        team_names = options.get("team") or []
        if team_names and role not in RESTRICTABLE_ROLES:
            raise CommandError("Only an analyst or a viewer can be restricted to teams "
                               "(owners and admins run the whole organisation).")
        teams = list(Team.objects.for_organization(org).filter(name__in=team_names))
        missing = sorted(set(team_names) - {t.name for t in teams})
        if missing:
            raise CommandError(f"No team named {', '.join(missing)} in {org.slug} "
                               "(manage.py addteam creates one).")
        password = sys.stdin.readline().rstrip("\n") if options["password_stdin"] else None
        if options["password_stdin"] and not password:
            raise CommandError("--password-stdin was given but standard input was empty.")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": email}
        )
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        elif created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        membership, new = Membership.objects.update_or_create(
            user=user, organization=org, defaults={"role": role}
        )
        # The member's teams are what this command says: none given, the whole organisation.
        membership.teams.set(teams)
        audit.record(
            "member.added" if new else "member.role_changed",
            organization=org, target=membership, username=username, role=role,
            teams=sorted(t.name for t in teams),
        )
        verb = "Added" if new else "Updated"
        scope = (f", restricted to {', '.join(sorted(t.name for t in teams))}" if teams
                 else "")
        self.stdout.write(f"{verb} {username} in {org.slug} as {role}{scope}.")
