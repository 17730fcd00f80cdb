"""What a successful run still wants a person to know, in words: records it rejected and
values outside the documented sets it kept as sent. Shown wherever runs are listed (the sync
page, the admin, `manage.py sync`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def run_warnings(run: Any) -> list[str]:
    """One sentence per warning, e.g. "3 calls with unknown status 'canceled'"."""
    out = []
    if run.rejected:
        out.append(ngettext(
            "%(count)d record rejected (kept in quarantine, not written)",
            "%(count)d records rejected (kept in quarantine, not written)",
            run.rejected) % {"count": run.rejected})
    details = run.details if isinstance(run.details, dict) else {}
    for field, values in (details.get("unknown_counts") or {}).items():
        for value, count in values.items():
            out.append(ngettext(
                "%(count)d call with unknown %(field)s '%(value)s'",
                "%(count)d calls with unknown %(field)s '%(value)s'",
                count) % {"count": count, "field": field, "value": value})
    for value in details.get("unknown_values") or []:
        out.append(_("unknown value %(value)s kept as sent") % {"value": value})
    if details.get("deferred_until"):
        until = datetime.fromisoformat(details["deferred_until"])
        out.append(_("the token's request budget was spent: the rest continues on a free "
                     "worker from %(time)s UTC") % {"time": f"{until:%H:%M:%S}"})
    return out
