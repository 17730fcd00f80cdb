from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal (tenancy)")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from portal import (
            db_deadline,
            runserver_threads,
            schema,  # noqa: F401  (registers the OpenAPI auth extension)
        )
        from portal.auth import lockout  # noqa: F401  (logs every login lockout)

        connection_created.connect(db_deadline.install, dispatch_uid="portal.db_deadline")
        runserver_threads.use_for_runserver()
        self.declare_tenancy()

    @staticmethod
    def declare_tenancy() -> None:
        """How portal's models (and the user model) reach their organisation."""
        from django.contrib.auth import get_user_model

        from portal import models
        from portal.tenancy import registry as tenancy
        from portal.tenancy.restriction import restrict

        tenancy.register(models.Organization, path="pk")
        tenancy.register(models.Membership, models.Environment, models.Invitation, models.Team,
                         models.AuditLog, path="organization")
        # Users and their personal tokens belong to every organisation they are members of.
        tenancy.register(models.TeamAgent, path="team__organization")
        tenancy.register(get_user_model(), members="pk")
        tenancy.register(models.ApiToken, members="user")
        # A member restricted to teams (portal.tenancy.restriction): their teams' environments
        # and teams; the rest of the organisation's own rows hold no calls.
        restrict(models.Environment, kind="environment", environment="pk")
        restrict(models.Team, kind="team", team="pk")
        restrict(models.TeamAgent, kind="team", team="team", organization="team__organization")
        restrict(models.Organization, models.Membership, models.Invitation, models.AuditLog,
                 get_user_model(), models.ApiToken, kind="open")


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with `portal.admin.site.SwitchboardAdminSite` as `admin.site`."""

    default = False
    default_site = "portal.admin.site.SwitchboardAdminSite"

    def ready(self) -> None:
        super().ready()
        # Portal's registrations (organisations, environments, members, tokens, the audit log,
        # django-axes' attempts): see portal/admin/__init__.py for why they are not there.
        import_module("portal.admin.organizations")
