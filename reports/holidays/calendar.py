"""Countries' public holidays, from the `holidays` package: the countries it knows and one
country's days of a year, named in the reader's language where the package has it."""
from __future__ import annotations

import re
from datetime import date
from functools import cache

import holidays as public
from holidays.registry import COUNTRIES

from reports.holidays.models import MAX_NAME


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(ISO code, "Name (code)") of every country the package knows, by name."""
    names = {}
    for class_name, code, *_rest in COUNTRIES.values():
        # The package names a country by its class (UnitedStates): its words, spaced.
        names[code] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
    return tuple(sorted(((code, f"{name} ({code})") for code, name in names.items()),
                        key=lambda choice: choice[1]))


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
