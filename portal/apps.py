from __future__ import annotations

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
            lockout,  # noqa: F401  (logs every login lockout)
            schema,  # noqa: F401  (registers the OpenAPI auth extension)
        )

        connection_created.connect(db_deadline.install, dispatch_uid="portal.db_deadline")


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with `portal.admin_site.SwitchboardAdminSite` as `admin.site`."""

    default = False
    default_site = "portal.admin_site.SwitchboardAdminSite"
