"""The time zones a person picks from: the common ones first, then every canonical zone once,
grouped by region and named by their place and their offset now ("Sao Paulo (UTC−03:00)",
"Buenos Aires, Argentina (UTC−03:00)"): four hundred bare IANA names are no list to pick from.

`zoneinfo.available_timezones()` holds ~600 names, among them "Factory", "localtime",
"posixrules", the old `US/…`, `Brazil/…` and `Etc/…` names, and aliases such as
Asia/Calcutta beside Asia/Kolkata. A picker lists the zones of the system's `zone.tab` (one
canonical zone per place) and UTC; where that table is missing, the names that look like a
region/city. A stored value outside the list still validates (the model checks
`available_zones`): an organisation created with an alias keeps it.
"""
from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")
COMMON = ("America/Sao_Paulo", "America/New_York", "America/Chicago", "America/Denver",
          "America/Los_Angeles", "America/Mexico_City", "America/Bogota",
          "America/Argentina/Buenos_Aires", "Europe/London", "Europe/Lisbon", "Europe/Madrid",
          "Europe/Paris", "Europe/Berlin", "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata",
          "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "UTC")
_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/",
            "Europe/", "Indian/", "Pacific/")


@lru_cache(maxsize=1)
def available_zones() -> frozenset[str]:
    """Every name `zoneinfo` can load, read once per process: `available_timezones()` walks
    the whole tz database on disk (~600 files, ~9 ms idle) on each call, and every saved
    organisation validates its zone against it."""
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def canonical_zones() -> tuple[str, ...]:
    available = available_zones()
    try:
        listed = {line.split("\t")[2] for line in ZONE_TAB.read_text(encoding="utf-8")
                  .splitlines() if line and not line.startswith("#") and line.count("\t") >= 2}
    except OSError:
        listed = {name for name in available if name.startswith(_REGIONS)}
    return tuple(sorted((listed & available) | {"UTC"}))


# A region's name as a group of the list (the IANA name's first part).
REGION_NAMES = {
    "Africa": gettext_lazy("Africa"), "America": gettext_lazy("Americas"),
    "Antarctica": gettext_lazy("Antarctica"), "Arctic": gettext_lazy("Arctic"),
    "Asia": gettext_lazy("Asia"), "Atlantic": gettext_lazy("Atlantic Ocean"),
    "Australia": gettext_lazy("Australia"), "Europe": gettext_lazy("Europe"),
    "Indian": gettext_lazy("Indian Ocean"), "Pacific": gettext_lazy("Pacific Ocean"),
}


def _offset(name: str, now: datetime) -> str:
    """"UTC−03:00": the zone's offset at `now` (a zone's offset moves with its summer time)."""
    offset = now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "\u2212"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def place(name: str) -> str:
    """A zone's place as people write it: "America/Argentina/Buenos_Aires" → "Buenos Aires,
    Argentina"; "UTC" as it is."""
    parts = [p.replace("_", " ") for p in name.split("/")[1:]] or [name]
    return ", ".join(reversed(parts))


def label(name: str, now: datetime | None = None) -> str:
    """The option's text: its place and its offset now ("UTC" alone for UTC)."""
    if name == "UTC":
        return name
    try:
        return f"{place(name)} ({_offset(name, now or datetime.now(UTC))})"
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return name


def timezone_choices(current: str = "") -> list:
    """Grouped choices: the common zones (and `current`, when not among them), then every
    zone by region, each region's in the order of their places' names; values are the
    IANA names."""
    every = canonical_zones()
    now = datetime.now(UTC)
    common = [name for name in COMMON if name in every]
    if current and current not in common:
        common.insert(0, current)
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in every:
        first = name.split("/")[0]
        group = str(REGION_NAMES[first]) if first in REGION_NAMES else _("Other")
        groups.setdefault(group, []).append((name, label(name, now)))
    return [(_("Common"), [(name, label(name, now)) for name in common]),
            *((group, sorted(zones, key=lambda zone: zone[1]))
              for group, zones in sorted(groups.items()))]
