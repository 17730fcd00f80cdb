"""The one phone-number normalisation: any way a person writes a number → E.164.

Why one place: an erasure (`sync.privacy`), a data-subject export and the sync's
anonymise-on-arrival must agree on which calls are one caller's, whether the number came as
`+55 11 98765-4321`, `(11) 98765-4321`, `011 98765 4321` or `5511987654321`. A national form
is read in the organisation's country, taken from its IANA timezone (`America/Sao_Paulo` →
BR) through the system's `zone.tab`. Parsing is Google's libphonenumber
(`phonenumberslite`); nothing here touches the database.

Also here: `shown_numbers`, how the pages write numbers for people (national within one
country, international once a page's numbers span countries); and `number_pattern`, the one
regular expression that finds a number written any of those ways inside free text
(transcripts, JSON payloads, URL-encoded queries). It is written
in the dialect both PostgreSQL (ARE) and Python's `re` read, so the database can pick the
candidate rows and Python then rewrites exactly what matched.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import phonenumbers

ZONE_TABLES = (Path("/usr/share/zoneinfo/zone.tab"), Path("/usr/share/zoneinfo/zone1970.tab"))
# At most this many characters: a longer "number" is not one (and is never parsed).
MAX_INPUT = 64
# What may sit between the digits of a written number: space, dash, dot, parentheses, a
# plus, or their URL encodings (a saved search `q=%2B55%2011…`).
_SEP = r"(?:[-. ()+]|%2[089bB])"


class InvalidNumber(ValueError):
    """The text is not a phone number this deployment can read (message for users)."""


@lru_cache(maxsize=1024)
def region_of_timezone(tz_name: str) -> str | None:
    """The ISO country of an IANA zone (`America/Sao_Paulo` → `BR`), or None (UTC, unknown)."""
    for table in ZONE_TABLES:
        try:
            lines = table.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) >= 3 and parts[2] == tz_name:
                return parts[0].split(",")[0]
    return None


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit of any script (Arabic-Indic ٠١٢, fullwidth ０１２, …)
    written as ASCII, and fullwidth punctuation folded (NFKC): a number typed on another
    keyboard is the same number."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(str(d) if (d := unicodedata.decimal(c, None)) is not None else c
                   for c in folded)


def to_e164(text: str, region: str | None = None) -> str:
    """`text` as E.164 (`+5511987654321`). A number without `+` or `00` is read as a national
    number of `region` (else as international digits); digits of any script count. Raises
    InvalidNumber."""
    cleaned = ascii_digits((text or "")[:MAX_INPUT * 4]).strip()
    if not cleaned or len(cleaned) > MAX_INPUT or not re.fullmatch(r"[0-9+()\-. /]+", cleaned):
        raise InvalidNumber("Give a phone number (digits, with or without +, spaces, dashes "
                            "or parentheses).")
    digits = re.sub(r"\D", "", cleaned)
    candidates: list[tuple[str, str | None]] = []
    if cleaned.startswith("+"):
        candidates.append((f"+{digits}", None))
    elif cleaned.startswith("00"):
        candidates.append((f"+{digits[2:]}", None))
    else:
        if region:
            candidates.append((cleaned, region))
        candidates.append((f"+{digits}", None))
    for candidate, where in candidates:
        try:
            parsed = phonenumbers.parse(candidate, where)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidNumber("This is not a phone number: write it with its country code "
                        "(+55 11 98765-4321) or as a national number of the organisation's "
                        "country.")


def stored_e164(value: str, region: str | None = None) -> str | None:
    """A number as an upstream stored it, as E.164; None when it is no number (a blank, an
    `anonymous`, a SIP address). Cheap for the common case: an E.164 value as sent."""
    if not value:
        return None
    if value[0] == "+" and value[1:].isdigit() and 8 <= len(value) <= 16:
        return value
    try:
        return to_e164(value, region)
    except InvalidNumber:
        return None


def national_digits(e164: str) -> tuple[str, str]:
    """(country calling code, national significant number) of an E.164 number."""
    parsed = phonenumbers.parse(e164, None)
    return str(parsed.country_code), phonenumbers.national_significant_number(parsed)


def number_pattern(e164: str) -> str:
    """A regular expression (PostgreSQL ARE and Python alike) matching the number written any
    way inside text: optional `+`/`00` and country code, an optional trunk `0`, then the
    national digits with at most three separators between any two, never inside a longer run
    of digits. Made anew for every use, never cached: the numbers it is made for are the
    ones being erased (`sync.privacy`), and erasure leaves no copy, a worker's memory
    included."""
    code, nsn = national_digits(e164)
    sep = f"{_SEP}{{0,3}}"
    country = f"(?:(?:\\+|%2[bB]|00)?{sep}{sep.join(code)}{sep})?"
    national = sep.join(nsn)
    return f"(?<![0-9]){country}(?:0{sep})?{national}(?![0-9])"


def number_regex(e164: str) -> re.Pattern[str]:
    """`number_pattern` compiled for Python, outside `re`'s module cache (which keeps the last
    512 patterns a process compiled, for as long as the process lives): an erasure or a
    scrub holds its own compiled pattern while it runs, and nothing keeps it after."""
    return re._compiler.compile(number_pattern(e164), 0)


def shown_numbers(values: Iterable[str], region: str | None, *,
                  international: bool = False) -> dict[str, str]:
    """How a page writes these stored numbers for people: each in the national format of
    the organisation's country (`region`) while every number of the page is of that
    country, else — or when `international` — every number in the international format
    (`+55 21 95013-1888` beside `+1 404-341-6583`, never `(21) 95013-1888` beside `(404)
    341-6583`: which country is which?). A value that is no number (blank, anonymised, a
    SIP address) maps to itself."""
    parsed = {}
    for value in set(values):
        e164 = stored_e164(value, region) if value else None
        if e164 is not None:
            parsed[value] = e164, phonenumbers.parse(e164, None)
    national = (not international and region is not None
                and all(_region_of(e164) == region for e164, _number in parsed.values()))
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if national
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return {value: phonenumbers.format_number(number, style)
            for value, (_e164, number) in parsed.items()}


@lru_cache(maxsize=4096)
def _region_of(e164: str) -> str | None:
    """`phonenumbers.region_code_for_number` of a stored number, kept: where several regions
    share the country code (+1: 25 of them) the library tries them in turn, ~1 ms for a
    number none of them holds (a page of +1 555 numbers spent most of its time there)."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
