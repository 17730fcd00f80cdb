"""The admin's erasure log: who erased, when, how many calls per environment, the hash.

Read-only for everyone (an erasure is made in the portal, the API or the command, which
also write the audit log and email the owners); staff see their organisations' only.
"""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _lazy

from portal.admin.base import ReadOnlyTenantAdmin
from sync.models import Erasure


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "organization", "actor", "source", "calls", "per_environment",
                    "number_hash", "cache_purged"]
    list_filter = ["organization", "source"]
    list_select_related = ["organization", "actor"]
    search_fields = ["=number_hash"]

    @admin.display(description=_lazy("calls per environment"))
    def per_environment(self, obj: Erasure) -> str:
        return ", ".join(f"{env.get('name', key)}: {env.get('calls', 0)}"
                         for key, env in sorted(obj.environments.items()))
