"""The pt_BR catalogue is complete and its committed .mo matches the .po."""
from __future__ import annotations

import gettext
import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"


def _po_entries() -> dict[str, str]:
    return {msgid: msgstr for msgid, (_, msgstr) in _po_messages().items()}


def _po_messages() -> dict[str, tuple[str | None, str]]:
    """msgid → (its msgid_plural or None, its msgstr, or msgstr[0] for a plural)."""
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = {}
    for block in text.split("\n\n")[1:]:
        if re.search(r"^msgctxt ", block, re.M):
            continue  # a word in one context ("Answered" as a call status): pgettext's
        msgid = "".join(re.findall(r'^(?:msgid )?"(.*)"$', block.split("msgid_plural")[0]
                                   .split("msgstr")[0], re.M))
        plural = ("".join(re.findall(r'^(?:msgid_plural )?"(.*)"$',
                                     block.split("msgid_plural")[1].split("msgstr")[0], re.M))
                  if "\nmsgid_plural " in block else None)
        msgstr = "".join(re.findall(r'^msgstr(?:\[0\])? "(.*)"$', block, re.M))
        if msgid:
            entries[msgid] = (plural, msgstr)
    return entries


def test_every_message_is_translated():
    entries = _po_entries()
    assert len(entries) > 200
    assert [m for m, t in entries.items() if not t] == []
    assert "#, fuzzy" not in (LOCALE / "django.po").read_text(encoding="utf-8").split("\n\n", 1)[1]


def test_compiled_catalogue_matches_the_po():
    with open(LOCALE / "django.mo", "rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert catalogue.gettext("Dashboard") == "Painel"
    # Every one-line translation of the .po is what the compiled catalogue answers (a stale
    # .mo answers the English msgid, or an older wording).
    # A plural is asked as code asks it (ngettext, one): `gettext` of a plural's msgid answers
    # its first form on Python 3.11.7, the English msgid on 3.11.2 (Debian's).
    for msgid, (plural, msgstr) in _po_messages().items():
        if "\\" not in msgid and msgstr and "msgctxt" not in msgid:
            found = (catalogue.gettext(msgid) if plural is None
                     else catalogue.ngettext(msgid, plural, 1))
            assert found == msgstr, msgid
