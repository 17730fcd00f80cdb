"""Admin for mirrored data: read-only for everyone (the upstream is the source of truth)."""
from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from sync.models import Agent, Call, CallbackDay, CallbackSourceDay, SyncRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdmin):
    list_display = ["name", "environment", "direction", "current_status", "is_callback",
                    "missing", "last_seen_at"]
    list_filter = ["direction", "is_callback", "missing", "environment"]
    search_fields = ["name", "external_id"]
    list_select_related = ["environment"]


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "environment", "agent", "direction", "status", "duration",
                    "is_testing", "from_number", "to_number"]
    list_filter = ["direction", "status", "is_testing", "environment"]
    search_fields = ["sid", "external_id", "from_number", "to_number"]
    date_hierarchy = "started_at"
    list_select_related = ["environment", "agent"]
    show_full_result_count = False
    exclude = ["raw"]
    readonly_fields = ["raw_pretty"]

    @admin.display(description="raw")
    def raw_pretty(self, obj) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, ensure_ascii=False))


@admin.register(CallbackDay)
class CallbackDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "environment", "total_received", "answered", "unmatched",
                    "fetched_at"]
    list_filter = ["environment"]
    date_hierarchy = "day"
    list_select_related = ["environment"]


@admin.register(CallbackSourceDay)
class CallbackSourceDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "environment", "name", "source_agent_id", "count"]
    list_filter = ["environment"]
    list_select_related = ["environment"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "environment", "stream", "trigger", "status", "pages",
                    "created", "updated", "unchanged", "rejected", "duration_seconds"]
    list_filter = ["status", "stream", "trigger", "environment"]
    date_hierarchy = "started_at"
    list_select_related = ["environment"]
