"""Countries' public holidays, from the `holidays` package: the countries it knows (named in
the reader's language by Babel) and one country's days of a year, named in the reader's
language where the package has it."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache

import holidays as public
from babel import Locale
from django.utils.translation import to_locale
from holidays.registry import COUNTRIES

from reports.holidays.models import MAX_NAME


@cache
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, "Name (code)") of every country the package knows, named in `language`
    (a Django language code; Babel's names of territories), by name."""
    names = Locale.parse(to_locale(language)).territories
    found = []
    for class_name, code, *_rest in COUNTRIES.values():
        # Babel names every country the package knows; its class name (UnitedStates) is
        # the fallback should a later release add one Babel does not.
        name = names.get(code) or re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
        found.append((code, f"{name} ({code})"))
    return tuple(sorted(set(found), key=lambda choice: _sort_key(choice[1])))


def _sort_key(name: str) -> str:
    """Åland after Afeganistão, not after Zâmbia: letters without their accents."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name.casefold())
                   if not unicodedata.combining(ch))


def _language(code: str, language: str) -> str | None:
    """The package's spelling of the reader's language (pt-br → pt_BR, en → en_US) when
    the country's names come in it; None: the country's own."""
    supported = public.country_holidays(code).supported_languages
    lang, _dash, region = language.partition("-")
    wanted = [f"{lang}_{region.upper()}" if region else lang, lang, f"{lang}_US"]
    return next((w for w in wanted if w in supported), None)


def public_holidays(code: str, year: int, language: str) -> dict[date, str]:
    """The country's national public holidays of `year`: day → name."""
    days = public.country_holidays(code, years=year, language=_language(code, language))
    return {day: name[:MAX_NAME] for day, name in sorted(days.items())}
