"""One way to write numbers, money, rates and dates per language: pages, charts and emails alike.

Every template filter and chart label that shows a figure goes through these functions, which
follow the active language's Django formats (en: 1,234 · US$ 2,792.93 · 64.6% · 11/23/2026 ·
11/23/2026 7:45 AM; pt-BR: 1.234 · US$ 2.792,93 · 64,6% · 23/11/2026 · 23/11/2026 07:45).
The rules, the same on every face shown to people (CSV files stay raw, for machines):

- a figure is rounded half up as written (`rounded`), never cut;
- counts carry the language's thousands separator ("8,312", never "8312");
- money carries its currency's symbol, grouping and two decimals; a per-call figure under
  one cent keeps up to four ("US$ 0.0034"), and a unit price up to four ("US$ 0.0975");
- percentages have one decimal ("4.8%"), and changes of a rate are percentage points with
  one decimal and their unit ("+3.4 pts");
- a negative figure is written with the minus sign U+2212 ("−6.5 pts"), never a hyphen;
- a figure that has no value is `EMPTY`, never a zero.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, trans_real

# Shown for a figure that has no value (not a zero).
EMPTY = "–"
# The one minus sign of every face shown to people (a hyphen is not a minus).
MINUS = "\u2212"
# Decimals of a percentage, on every face.
PERCENT_PLACES = 1
# Each currency's symbol as written before its figure; any other currency by its code.
CURRENCY_SYMBOLS = {"USD": "US$", "BRL": "R$", "EUR": "€", "GBP": "£"}


def _minus(text: str) -> str:
    """`text` with a leading hyphen-minus written as the minus sign."""
    return MINUS + text[1:] if text.startswith("-") else text


def rounded(value: float | int, places: int = 1) -> Decimal:
    """The one rounding rule of every face (pages, API, emails, alerts): half up, on the
    figure as written (2.75 → 2.8, −2.75 → −2.8), never banker's rounding of the binary float
    and never Django's `number_format`, which cuts decimals off (2.78 → "2.7")."""
    return Decimal(str(round(float(value), 6))).quantize(Decimal(1).scaleb(-places),
                                                          ROUND_HALF_UP)


def format_number(value: float | int | None, places: int = 1) -> str:
    """A figure with `places` decimals, rounded by `rounded`, in the language's format."""
    if value is None:
        return EMPTY
    shown = rounded(value, places)
    return _minus(number_format(shown if shown else abs(shown), places, force_grouping=True))


def format_change_pct(value: float | None) -> str:
    """A period-over-period change in percent, signed ("+12.5%", "−2.8%")."""
    if value is None:
        return EMPTY
    shown = rounded(value, 1)
    sign = "+" if shown > 0 else MINUS if shown < 0 else ""
    return f"{sign}{format_percent_of(abs(shown))}"


def format_int(value: int | None) -> str:
    """A count with the language's thousands separator."""
    return EMPTY if value is None else _minus(number_format(value, force_grouping=True))


def int_formatter() -> Callable[[int | None], str]:
    """`format_int` for the active language, its separator looked up once: a table of
    hundreds of counts (the dashboard's heatmap and series) paid `number_format`'s generic
    path per cell. Counts of any other type, or a grouping other than by thousands, go
    through `format_int` itself, so the two always write the same text."""
    separator, grouping = get_format("THOUSAND_SEPARATOR"), get_format("NUMBER_GROUPING")
    if grouping != 3:
        return format_int

    def write(value: int | None) -> str:
        if type(value) is not int or value < 0:
            return format_int(value)
        return f"{value:,}".replace(",", separator) if separator != "," else f"{value:,}"

    return write


def format_percent_of(percent: float | None) -> str:
    """A figure already in percent (70.36, an alert's answer rate) as every percentage is
    written: `PERCENT_PLACES` decimals, rounded half up ("70.4%")."""
    return EMPTY if percent is None else f"{format_number(percent, PERCENT_PLACES)}%"


def format_percent(value: float | None) -> str:
    """A 0–1 rate as a percentage with one decimal, rounded half up as people round."""
    return EMPTY if value is None else format_percent_of(100 * value)


def percent_formatter() -> Callable[[float | None], str]:
    """`format_percent` for the active language, its decimal separator looked up once (as
    `int_formatter` does for counts): the dashboard's tables write one rate per row. A float
    rate of 0–1 takes the short path; anything else goes through `format_percent` itself,
    so the two always write the same text (tests/reports/test_drill_cells.py)."""
    decimal = get_format("DECIMAL_SEPARATOR")

    def write(value: float | None) -> str:
        if type(value) is not float or not 0.0 <= value <= 1.0:
            return format_percent(value)
        return f"{rounded(100 * value, 1):.1f}".replace(".", decimal) + "%"

    return write


def active_ngettext() -> Callable[[str, str, int], str]:
    """`ngettext` of the active language, its catalog looked up once: `ngettext` finds the
    active language in a context-local variable on every call, which was half of what a
    drill link's title cost (3.3 against 7-8 µs); a table of 300 links asks it 300 times."""
    if not settings.USE_I18N:
        return ngettext
    return trans_real.catalog().ngettext


def format_points(change: float | None) -> str:
    """A change of a rate (0.034) as percentage points with one decimal ("3.4", "−6.5")."""
    return EMPTY if change is None else format_number(change * 100, PERCENT_PLACES)


def format_points_change(change: float | None, *, signed: bool = True) -> str:
    """A change of a rate with its unit, as every face writes it: "+3.4 pts" / "−6.5 pts"
    ("+3,4 p.p." in Portuguese); unsigned, its size only ("6.5 pts", beside "down")."""
    if change is None:
        return EMPTY
    shown = rounded(change * 100, PERCENT_PLACES)
    figure = format_number(shown if signed else abs(shown), PERCENT_PLACES)
    plus = "+" if signed and shown > 0 else ""
    return f"{plus}{figure} {_('pts')}"


def _money(value: float | Decimal, currency: str | None, most_places: int) -> str:
    """`value` with its currency's symbol and two decimals, or up to `most_places` when the
    two would hide its digits (trailing zeros past the second dropped)."""
    shown = rounded(value, most_places)
    places = most_places
    while places > 2 and shown == rounded(shown, places - 1):
        places -= 1
    code = (currency or "USD").upper()
    symbol = CURRENCY_SYMBOLS.get(code, code)
    figure = number_format(abs(shown), places, force_grouping=True)
    return f"{MINUS if shown < 0 else ''}{symbol}\u00a0{figure}"


def format_money(value: float | Decimal | None, currency: str | None = "USD", *,
                 per_call: bool = False) -> str:
    """An amount of money: "US$ 2,792.93" / "US$ 2.792,93" (two decimals, rounded half
    up). A per-call figure (a call's cost, cost per call, per resolved call) under one cent
    keeps up to four decimals ("US$ 0.0034"), the two would read it as zero."""
    if value is None:
        return EMPTY
    under_a_cent = per_call and abs(rounded(value, 4)) < Decimal("0.01")
    return _money(value, currency, 4 if under_a_cent else 2)


def format_price(value: float | Decimal | None, currency: str | None = "USD") -> str:
    """A unit price (an agent's price per minute), up to four decimals as vendors quote
    them ("US$ 0.0975", "US$ 0.12"): two would hide a change from 0.0950 to 0.0975."""
    return EMPTY if value is None else _money(value, currency, 4)


def format_day(day: date | None) -> str:
    """A day, short ("11/23/2026" / "23/11/2026")."""
    return EMPTY if day is None else date_format(day, "SHORT_DATE_FORMAT")


# Django date format characters `day_formatter` writes itself (numbers only; each as
# `django.utils.dateformat` writes it).
_DAY_PARTS: dict[str, Callable[[date], str]] = {
    "d": lambda day: f"{day.day:02d}", "j": lambda day: str(day.day),
    "m": lambda day: f"{day.month:02d}", "n": lambda day: str(day.month),
    "Y": lambda day: f"{day.year:04d}", "y": lambda day: f"{day.year % 100:02d}",
}


def day_formatter() -> Callable[[date | None], str]:
    """`format_day` for the active language, its format read and parsed once: a table of
    days (the dashboard's series, 30-90 rows) paid `date_format`'s lookup and parse per
    row (18 µs). Formats of other than day, month and year numbers and separators (en
    "m/d/Y" and pt-BR "d/m/Y" are such) go through `format_day` itself, so the two always
    write the same text."""
    fmt = get_format("SHORT_DATE_FORMAT")
    if "\\" in fmt or any(c.isalpha() and c not in _DAY_PARTS for c in fmt):
        return format_day
    parts = [_DAY_PARTS.get(c, c) for c in fmt]

    def write(day: date | None) -> str:
        if type(day) is not date:
            return format_day(day)
        return "".join(p if type(p) is str else p(day) for p in parts)

    return write


def format_moment(moment: datetime | None) -> str:
    """A date and time, short, in the active timezone's wall time."""
    from django.utils import timezone

    if moment is None:
        return EMPTY
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "SHORT_DATETIME_FORMAT")
