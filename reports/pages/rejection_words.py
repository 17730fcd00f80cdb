"""A rejected record's reason in the reader's language (the sync page).

The sync stores each reason in English as it found it (`sync.providers.Rejected`: "missing
call_id", "started_at must be a string, got int"); the page writes the sentences the
validators make in the reader's language, the vendor's field names and values as sent. A
reason of another shape is shown as stored.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

KINDS: dict[str, Callable[[], str]] = {
    "a string": lambda: _("a string"), "an integer": lambda: _("an integer"),
    "a number": lambda: _("a number"), "a boolean": lambda: _("a boolean"),
    "an ISO 8601 timestamp": lambda: _("an ISO 8601 timestamp"),
    "an object": lambda: _("an object"), "an array": lambda: _("an array"),
}
FIELD = r"(?P<field>[\w.\[\]`-]+)"
PATTERNS: tuple[tuple[re.Pattern[str], Callable[[dict], str]], ...] = (
    (re.compile(rf"^missing {FIELD}$"), lambda m: _("%(field)s is missing") % m),
    (re.compile(rf"^{FIELD} is missing$"), lambda m: _("%(field)s is missing") % m),
    (re.compile(r"^not a JSON object$"), lambda m: _("not a JSON object")),
    (re.compile(r"^(?P<field>.+) is not a JSON object$"),
     lambda m: _("%(field)s is not a JSON object") % m),
    (re.compile(rf"^{FIELD} must be (?P<kind>{'|'.join(KINDS)}), got (?P<got>.+)$"),
     lambda m: _("%(field)s must be %(kind)s, got %(got)s") % {
         **m, "kind": KINDS[m["kind"]]()}),
    (re.compile(rf"^{FIELD} must be (?P<kind>{'|'.join(KINDS)})$"),
     lambda m: _("%(field)s must be %(kind)s") % {**m, "kind": KINDS[m["kind"]]()}),
    (re.compile(rf"^{FIELD} contains a NUL or control character$"),
     lambda m: _("%(field)s contains a NUL or control character") % m),
    (re.compile(rf"^{FIELD} is not a timestamp: (?P<got>.+)$"),
     lambda m: _("%(field)s is not a timestamp: %(got)s") % m),
)


def reason_text(reason: str) -> str:
    """`reason` as the reader reads it (see the module docstring)."""
    for pattern, write in PATTERNS:
        found = pattern.match(reason)
        if found:
            return write(found.groupdict())
    return reason
