"""The time zones a person picks from: the common ones first, then every canonical zone once.

`zoneinfo.available_timezones()` holds ~600 names, among them "Factory", "localtime",
"posixrules", the old `US/…`, `Brazil/…` and `Etc/…` names, and aliases such as
Asia/Calcutta beside Asia/Kolkata. A picker lists the zones of the system's `zone.tab` (one
canonical zone per place) and UTC; where that table is missing, the names that look like a
region/city. A stored value outside the list still validates (the model checks
`available_timezones`): an organisation created with an alias keeps it.
"""
from __future__ import annotations

import zoneinfo
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")
COMMON = ("America/Sao_Paulo", "America/New_York", "America/Chicago", "America/Denver",
          "America/Los_Angeles", "America/Mexico_City", "America/Bogota",
          "America/Argentina/Buenos_Aires", "Europe/London", "Europe/Lisbon", "Europe/Madrid",
          "Europe/Paris", "Europe/Berlin", "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata",
          "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "UTC")
_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/",
            "Europe/", "Indian/", "Pacific/")


@lru_cache(maxsize=1)
def canonical_zones() -> tuple[str, ...]:
    available = zoneinfo.available_timezones()
    try:
        listed = {line.split("\t")[2] for line in ZONE_TAB.read_text(encoding="utf-8")
                  .splitlines() if line and not line.startswith("#") and line.count("\t") >= 2}
    except OSError:
        listed = {name for name in available if name.startswith(_REGIONS)}
    return tuple(sorted((listed & available) | {"UTC"}))


def timezone_choices(current: str = "") -> list:
    """Grouped choices: the common zones (and `current`, when not among them), then all."""
    every = canonical_zones()
    common = [name for name in COMMON if name in every]
    if current and current not in common:
        common.insert(0, current)
    return [(_("Common"), [(name, name) for name in common]),
            (_("All time zones"), [(name, name) for name in every])]
