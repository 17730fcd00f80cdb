"""Which database a cached report belongs to: its keys begin with `report_prefix()`.

Two deployments, or a restore rehearsal on a scratch database, may share one Redis. Report
and page entries are computed from one database's rows, so their keys name it, and a restore
drops only the entries of the database it replaced (`manage.py restore`): the live
deployment's cached pages beside a rehearsal stay cached.
"""
from __future__ import annotations

import hashlib
from typing import Any

from django.db import connections

_TAGS: dict[tuple[str, str, str], str] = {}


def database_tag(settings_dict: dict[str, Any] | None = None) -> str:
    """A short name of a database (`settings_dict`'s, else the default connection's): its
    server and name, hashed, so no host name is spelled out in a key."""
    db = settings_dict or connections["default"].settings_dict
    where = (str(db.get("HOST") or ""), str(db.get("PORT") or ""), str(db["NAME"]))
    if where not in _TAGS:
        _TAGS[where] = "db" + hashlib.sha256("/".join(where).encode()).hexdigest()[:12]
    return _TAGS[where]


def report_prefix(settings_dict: dict[str, Any] | None = None) -> str:
    """What every report and page key of the database begins with ("report:db…:")."""
    return f"report:{database_tag(settings_dict)}:"
