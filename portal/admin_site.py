"""The admin site: only superusers and staff owners/admins of some organisation get in.

Django's default lets any active staff user open `/admin/`; here a staff viewer or analyst
(or a staff user with no organisation) gets a 403 on every admin page, the index included.
Installed through `portal.apps.PortalAdminConfig` (`default_site`), so `admin.site` is it.
"""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse


class SwitchboardAdminSite(admin.AdminSite):
    site_header = "Switchboard admin"
    site_title = "Switchboard admin"

    def has_permission(self, request: HttpRequest) -> bool:
        from portal.admin_base import administered_organization_ids

        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        ids = administered_organization_ids(request)
        return ids is None or bool(ids)

    def admin_view(self, view, cacheable: bool = False):
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args, **kwargs):
            user = request.user
            # Logged-in staff without an owner/admin role: refused, not sent to the login form.
            if user.is_active and user.is_staff and not self.has_permission(request) \
                    and request.path != reverse("admin:logout", current_app=self.name):
                raise PermissionDenied("Only organisation owners and admins use the admin.")
            return inner(request, *args, **kwargs)

        guarded.__dict__.update(inner.__dict__)
        return guarded
