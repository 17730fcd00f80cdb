"""Days a user gives: the one day parser, the one set of range rules, the period presets.

Every face that reads a day (report pages, the calls explorer, the reports API, the
Talkover-compatible API) reads it with `parse_day` — through `DayField` in a page form,
`DayFilter` in the explorer's FilterSet, `ApiDayField` in an API serializer — and checks a
range with `range_problems`, so they accept and refuse the same things:

- a day is `YYYY-MM-DD` and nothing else (no locale format like `03/01/2026`, no ISO week
  `2026-W09-1`, no `20260301`), between `FIRST_DAY` and `LAST_DAY` (`portal.bounds`: a day
  of year 9999 has no next midnight, so its filter overflowed);
- the end is not before the start, and a report covers at most `MAX_RANGE_DAYS` days (a
  listing may leave an end open and has no maximum: `max_days=None`).

Each refusal has a code (`invalid`, `out_of_bounds`, `reversed`, `too_long`, `required`) and
the portal's words; a face with its own wording (the Talkover-compatible API,
`reports.talkover.compat.talkover_words`) maps the code to its words.

It is also the reports' one door to day math: a local day's bounds (`local_day_bounds`, the
sync's own rule, so a report's day is exactly the day the rollups counted) are read from
here, never from `sync.write.rollups` directly.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import django_filters
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from portal.bounds import FIRST_DAY, LAST_DAY
from sync.write.rollups import local_day_bounds

__all__ = ["DEFAULT_DAYS", "DEFAULT_PRESET", "FIRST_DAY", "LAST_DAY", "MAX_RANGE_DAYS", "PRESETS",
           "ApiDayField", "DayField", "DayFilter", "ScopeError", "check_range", "parse_day",
           "local_day_bounds", "preset_range", "range_problems", "resolve_range"]

# Longest range a report may cover; the API refuses longer ones with a field error.
MAX_RANGE_DAYS = 366
# A report without a start covers this many days before its end.
DEFAULT_DAYS = 30
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INVALID_DAY = gettext_lazy("Enter a valid date (YYYY-MM-DD).")

# The same presets on every report page and the calls explorer; weeks start on Monday
# (ISO), days are the organisation's.
PRESETS = [
    ("today", gettext_lazy("Today")), ("yesterday", gettext_lazy("Yesterday")),
    ("this_week", gettext_lazy("This week")), ("last_week", gettext_lazy("Last week")),
    ("7d", gettext_lazy("Last 7 days")), ("30d", gettext_lazy("Last 30 days")),
    ("90d", gettext_lazy("Last 90 days")), ("this_month", gettext_lazy("This month")),
    ("last_month", gettext_lazy("Last month")), ("custom", gettext_lazy("Custom")),
]
DEFAULT_PRESET = "30d"


class ScopeError(ValueError):
    """Field errors of a range: `errors[field] = [message]`, `codes[field] = code`.

    Codes: `out_of_bounds`, `reversed`, `too_long`, `invalid`, `required`. A face with its own
    wording (the Talkover-compatible API) maps codes to its words.
    """

    def __init__(self, errors: dict[str, list[str]], codes: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors
        self.codes = codes


def parse_day(value: str | date | None, field: str) -> date | None:
    """A YYYY-MM-DD day (or None when absent); anything else is a `ScopeError` (`invalid`).
    Bounds are a range rule (`range_problems`), checked where the range is."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        if not _DAY.fullmatch(value):  # fromisoformat alone takes "2026-W09-1" too
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ScopeError({field: [str(INVALID_DAY)]}, {field: "invalid"}) from None


def range_problems(start: date | None, end: date | None, *, start_field: str = "start",
                   end_field: str = "end", max_days: int | None = MAX_RANGE_DAYS
                   ) -> dict[str, tuple[str, str]]:
    """The range rules, once: {field: (code, message)} (empty when the range is fine).

    A listing (the explorer, the Talkover-compatible API) may leave an end open (None) and
    has no maximum length (`max_days=None`); reports give both ends and keep `MAX_RANGE_DAYS`."""
    problems: dict[str, tuple[str, str]] = {}
    for field, day in ((start_field, start), (end_field, end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            problems[field] = ("out_of_bounds", _("Dates must lie between %(first)s and "
                                                  "%(last)s.") % {"first": FIRST_DAY.isoformat(),
                                                                  "last": LAST_DAY.isoformat()})
    if problems or start is None or end is None:
        return problems
    if end < start:
        problems[end_field] = ("reversed", _("The end date is before the start date."))
    elif max_days is not None and (end - start).days + 1 > max_days:
        problems[end_field] = ("too_long", _("Choose at most %(n)d days.") % {
            "n": max_days})
    return problems


def check_range(start: date, end: date, *, start_field: str = "start", end_field: str = "end",
                max_days: int | None = MAX_RANGE_DAYS) -> None:
    """Raise `ScopeError` unless start..end passes the range rules. The report queries call
    it with `max_days=None` (a length limit is a face's: the alerts' windows have none)."""
    problems = range_problems(start, end, start_field=start_field, end_field=end_field,
                              max_days=max_days)
    if problems:
        raise ScopeError({k: [m] for k, (_, m) in problems.items()},
                         {k: c for k, (c, _) in problems.items()})


def resolve_range(start: date | None, end: date | None, *, today: date,
                  default_days: int = DEFAULT_DAYS, start_field: str = "start",
                  end_field: str = "end") -> tuple[date, date]:
    """The range with the defaults every face shares (end: today; start: `default_days`
    before end), checked by the range rules. A problem with a defaulted date is blamed on
    the date the caller gave (that is what they can change)."""
    for field, day in ((start_field, start), (end_field, end)):
        if day is not None:  # bounds first: a default computed from year 1 would overflow
            check_range(day, day, start_field=field, end_field=field)
    if end is None and start is not None:
        end_field = start_field
    elif start is None and end is not None:
        start_field = end_field
    end = end or today
    start = start or end - timedelta(days=default_days)
    check_range(start, end, start_field=start_field, end_field=end_field)
    return start, end


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """Inclusive (start, end) of a preset, ending today for the rolling ones."""
    if preset in ("today", "yesterday"):
        day = today - timedelta(days=0 if preset == "today" else 1)
        return day, day
    if preset in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if preset == "this_week":
            return monday, today
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    days = {"7d": 7, "30d": 30, "90d": 90}[preset]
    return today - timedelta(days=days - 1), today


class DayField(forms.DateField):
    """A page form's day, read by `parse_day` (a date picker sends YYYY-MM-DD; Django's own
    field would also take `03/01/2026`, read as March or January by the page's language)."""

    default_error_messages = {"invalid": INVALID_DAY}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)

    def to_python(self, value: object) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        try:
            return parse_day(str(value).strip(), "day")
        except ScopeError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class DayFilter(django_filters.DateFilter):
    """The explorer's day filter: `DayField`."""

    field_class = DayField


class ApiDayField(serializers.DateField):
    """An API query's day, read by `parse_day` (DRF's own reading also takes `20260301` and
    `2026-W09-1`, which the pages refuse)."""

    default_error_messages = {"invalid": INVALID_DAY}

    def to_internal_value(self, value: object) -> date:
        try:
            day = parse_day(str(value).strip(), self.field_name or "day")
        except ScopeError:
            day = None
        if day is None:
            self.fail("invalid")
        return day
