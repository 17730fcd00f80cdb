"""The base of the commands about one organisation (addenv, addmember, addteam): the slug as
their first argument, and the organisation it names or one error line saying there is none."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portal.models import Organization


class OrganizationCommand(BaseCommand):
    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help=_("The organisation's slug."))

    @staticmethod
    def organization(slug: str) -> Organization:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(_("No organisation with slug %(slug)r.") % {"slug": slug})
        return org
