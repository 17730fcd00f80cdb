"""One way to write numbers, rates and dates per language: pages, charts and emails alike.

They were written three ways ("64.6 %" on pages, "64.6%" in emails, "—" or "–" for nothing,
long dates in emails and short ones on pages). Every template filter and chart label that
shows a figure goes through these functions, which follow the active language's Django
formats (en: 1,234 · 64.6% · 11/23/2026 · 11/23/2026 7:45 a.m.; pt-BR: 1.234 · 64,6% ·
23/11/2026 · 23/11/2026 07:45).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import date_format, get_format, number_format

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


def format_points(change: float | None) -> str:
    """A change of a rate (0.034) as percentage points with one decimal ("3.4")."""
    return EMPTY if change is None else format_number(change * 100, 1)


def format_day(day: date | None) -> str:
    """A day, short ("11/23/2026" / "23/11/2026")."""
    return EMPTY if day is None else date_format(day, "SHORT_DATE_FORMAT")


def format_moment(moment: datetime | None) -> str:
    """A date and time, short, in the active timezone's wall time."""
    from django.utils import timezone

    if moment is None:
        return EMPTY
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "SHORT_DATETIME_FORMAT")
