"""One way to write numbers, rates and dates per language: pages, charts and emails alike.

They were written three ways ("64.6 %" on pages, "64.6%" in emails, "—" or "–" for nothing,
long dates in emails and short ones on pages). Every template filter and chart label that
shows a figure goes through these functions, which follow the active language's Django
formats (en: 1,234 · 64.6% · 11/23/2026 · 11/23/2026 7:45 AM; pt-BR: 1.234 · 64,6% ·
23/11/2026 · 23/11/2026 07:45).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import ngettext, trans_real

# Shown for a figure that has no value (not a zero).
EMPTY = "–"


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
    return number_format(rounded(value, places), places, force_grouping=True)


def format_change_pct(value: float | None) -> str:
    """A period-over-period change in percent, signed ("+12.5%", "−2.8%")."""
    if value is None:
        return EMPTY
    shown = rounded(value, 1)
    sign = "+" if shown > 0 else "−" if shown < 0 else ""
    return f"{sign}{format_number(abs(shown), 1)}%"


def format_int(value: int | None) -> str:
    """A count with the language's thousands separator."""
    return EMPTY if value is None else number_format(value, force_grouping=True)


def int_formatter() -> Callable[[int | None], str]:
    """`format_int` for the active language, its separator looked up once: a table of
    hundreds of counts (the dashboard's heatmap and series) paid `number_format`'s generic
    path per cell. Counts of any other type, or a grouping other than by thousands, go
    through `format_int` itself, so the two always write the same text."""
    separator, grouping = get_format("THOUSAND_SEPARATOR"), get_format("NUMBER_GROUPING")
    if grouping != 3:
        return format_int

    def write(value: int | None) -> str:
        if type(value) is not int:
            return format_int(value)
        return f"{value:,}".replace(",", separator) if separator != "," else f"{value:,}"

    return write


def format_percent(value: float | None) -> str:
    """A 0–1 rate as a percentage with one decimal, rounded half up as people round."""
    if value is None:
        return EMPTY
    return f"{format_number(100 * value, 1)}%"


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
    """A change of a rate (0.034) as percentage points with one decimal ("3.4")."""
    return EMPTY if change is None else format_number(change * 100, 1)


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


# Currencies written with a symbol (any other: its ISO code before the figure).
_CURRENCY_SYMBOLS = {"USD": "US$", "BRL": "R$", "EUR": "€", "GBP": "£"}


def format_money(value: float | Decimal | None, currency: str | None = "USD", *,
                 per_call: bool = False) -> str:
    """An amount in its currency, grouped, rounded half up to the currency's two decimals
    ("US$ 2,792.93" / "US$ 2.792,93"); a per-call figure under one cent keeps up to four
    ("US$ 0.0037"), so a cheap call is not written as nothing. None: "–"."""
    if value is None:
        return EMPTY
    places = 2
    if per_call and value and abs(value) < Decimal("0.01"):
        places = 4
    code = currency or "USD"
    symbol = _CURRENCY_SYMBOLS.get(code, code)
    shown = rounded(abs(value), places)
    sign = "−" if value < 0 and shown else ""
    return f"{sign}{symbol} {number_format(shown, places, force_grouping=True)}"
