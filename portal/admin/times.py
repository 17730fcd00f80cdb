"""Admin times in the organisation's timezone, with the zone named.

Django's admin shows datetimes in the server's zone (UTC) without saying so. A changelist
may hold rows of several organisations (a superuser's), so each row's time is converted to
its own organisation's zone: `local_time_columns` swaps every datetime field of
`list_display` for a column that does that, from two small lookups made once per page
(organisation → zone, environment → organisation), so no row costs a query.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.formats import date_format

from portal.models import Organization
from portal.tenancy import registry as tenancy


def format_local(value: datetime | None, zone_name: str) -> str:
    """`value` in `zone_name`, written as the portal writes it (`portal.formatting`):
    "11/23/2026 8:40 AM (America/Sao_Paulo)" / "23/11/2026 08:40 (America/Sao_Paulo)"."""
    if value is None:
        return "-"
    local = value.astimezone(ZoneInfo(zone_name))
    return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} ({zone_name})"


class Zones:
    """Zone names of the organisations in scope (`organization_ids` None: all of them),
    read in one query the first time a row asks (pages without times read nothing)."""

    def __init__(self, organization_ids: list[int] | None) -> None:
        self._ids = organization_ids
        self._loaded = False
        self.by_org: dict[int, str] = {}
        self._env_org: dict[int, int] = {}

    def _load(self) -> None:
        orgs = (Organization.objects.across_organizations() if self._ids is None
                else Organization.objects.for_organizations(self._ids))
        for org_id, zone, env_id in orgs.values_list("pk", "timezone", "environments__pk"):
            self.by_org[org_id] = zone
            if env_id is not None:
                self._env_org[env_id] = org_id
        self._loaded = True

    def of(self, obj: models.Model, path: str | None) -> str:
        """The zone of `obj`'s organisation, found along `path` without a query; UTC when
        the object belongs to no (single) organisation."""
        cached = self._cached_organization(obj, path)
        if cached is not None:
            return cached.timezone
        if not self._loaded:
            self._load()
        org_id = self._organization_id(obj, path)
        if org_id is None and len(self.by_org) == 1:
            org_id = next(iter(self.by_org))
        return self.by_org.get(org_id, "UTC") if org_id is not None else "UTC"

    def _organization_id(self, obj: models.Model, path: str | None) -> int | None:
        if not path:
            return None
        if path == "pk":
            return obj.pk
        parts = path.split("__")
        if path.endswith(tenancy.VIA_ENVIRONMENT):
            parts, last = parts[:-1], "environment_id"
            target = self._walk(obj, parts[:-1])
            env_id = getattr(target, last, None) if target is not None else None
            return self._env_org.get(env_id)
        target = self._walk(obj, parts[:-1])
        return getattr(target, f"{parts[-1]}_id", None) if target is not None else None

    @staticmethod
    def _cached_organization(obj: models.Model, path: str | None) -> Organization | None:
        """The organisation when the row already holds it (list_select_related), else None."""
        if not path or path == "pk":
            return obj if path == "pk" else None
        for part in path.split("__"):
            if part not in obj._state.fields_cache:
                return None
            obj = obj._state.fields_cache[part]
            if obj is None:
                return None
        return obj

    @staticmethod
    def _walk(obj, parts: list[str]):
        for part in parts:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj


def _column(name: str, label: str, zones: Zones, path: str | None) -> Callable:
    def column(obj: models.Model) -> str:
        return format_local(getattr(obj, name), zones.of(obj, path))

    column.short_description = label
    column.admin_order_field = name
    column.__name__ = f"{name}_local"
    return column


def local_time_columns(model: type[models.Model], list_display, zones: Zones) -> list:
    """`list_display` with every DateTimeField shown in its organisation's zone."""
    path = tenancy.path_of(model)
    out = []
    for item in list_display:
        field = None
        if isinstance(item, str):
            try:
                field = model._meta.get_field(item)
            except Exception:  # a method or property name, not a field
                field = None
        if isinstance(field, models.DateTimeField):
            out.append(_column(item, str(field.verbose_name), zones, path))
        else:
            out.append(item)
    return out

