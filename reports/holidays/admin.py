"""The admin's holidays: Settings → Holidays' list, one row a day."""
from __future__ import annotations

from django.contrib import admin

from portal.admin.base import TenantModelAdmin
from reports.holidays.models import Holiday


@admin.register(Holiday)
class HolidayAdmin(TenantModelAdmin):
    list_display = ["day", "name", "organization"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name"]
    date_hierarchy = "day"
