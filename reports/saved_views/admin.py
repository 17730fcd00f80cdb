"""Admin for saved views, scoped by the tenant mixin: staff owners and admins see, rename,
share or delete their organisations' views; views are made in the portal (no "add")."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from portal.admin.base import TenantModelAdmin
from reports.saved_views.models import SavedView


@admin.register(SavedView)
class SavedViewAdmin(TenantModelAdmin):
    list_display = ["name", "organization", "owner", "page", "shared", "updated_at"]
    list_filter = ["page", "shared", "organization"]
    search_fields = ["name", "organization__name", "owner__username"]
    list_select_related = ["organization", "owner"]
    fields = ["name", "organization", "owner", "page", "query", "shared", "created_at",
              "updated_at"]
    readonly_fields = ["organization", "owner", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # A saved view is the query string of a page the member was looking at.
        return False
