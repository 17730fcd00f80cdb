"""What a request may carry, bounded once: ids within their column, moments
within what every page can render.

Why here and not in each view: a 21-digit id, a JSON `1e400` or a snooze until year 1 went
through a field that checked only the type, and failed later — in the database (a number
beyond bigint), in Python (`int(inf)`), or in every page that showed it (year 1 cannot be
moved into an organisation's timezone). So:

- `IdField` / `BoundedPrimaryKeyRelatedField` (DRF): an id is an integer (not a float, not a
  bool) between 1 and the largest bigint, else a 400 that names the field;
- `IdsChoiceField` / `IdsFilter` (pages, django-filter): the same rule for ids picked from a
  list (`?env=…`, `?environment=…`), a form error instead of a query;
- `StorableDateTimeField` (model field): a moment a user stores (a snooze) must lie within
  2000-01-01 … 2100-12-31, like every date the reports accept; its validator reaches the
  API serializer, the page form and the admin form alike, and a value stored before the rule
  is read back clamped to those bounds, so no page breaks on it;
- `date_problem()`: the same bounds for a day or moment written as text (a saved view's
  query string).

`portal` imports neither `sync` nor `reports`, so both may use these.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# Primary keys are bigint (DEFAULT_AUTO_FIELD = BigAutoField).
ID_MAX = 2**63 - 1
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
FIRST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
OUT_OF_BOUNDS = _("Choose a date between 2000-01-01 and 2100-12-31.")


def as_id(value: object) -> int | None:
    """`value` as an id (an int, or a string of digits) within 1 … ID_MAX; None otherwise.

    Floats are refused even when whole (`1.0`, `1e400`): an id is never computed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            return None
        value = int(value)
    if isinstance(value, int) and 1 <= value <= ID_MAX:
        return value
    return None


class IdField(serializers.IntegerField):
    """An id in a query or body: an integer within 1 … the largest bigint."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class BoundedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object's id: anything that is not an id within the column is "incorrect
    type", before the database (or Python's int()) sees it."""

    def to_internal_value(self, data):
        if as_id(data) is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(as_id(data))


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Objects picked by primary key; a value that is no id is "not one of the choices"."""

    def _check_values(self, value):
        if self.to_field_name is None:
            for pk in value:
                if as_id(pk) is None:
                    raise ValidationError(self.error_messages["invalid_pk_value"],
                                          code="invalid_pk_value", params={"pk": pk})
        return super()._check_values(value)


class IdsFilter(django_filters.ModelMultipleChoiceFilter):
    """A django-filter filter over objects picked by id, bounded like `IdsChoiceField`."""

    field_class = IdsChoiceField


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def within_bounds(value: date | datetime) -> bool:
    if isinstance(value, datetime):
        try:
            return FIRST_MOMENT <= _aware(value) <= LAST_MOMENT
        except OverflowError:
            return False
    return FIRST_DAY <= value <= LAST_DAY


def validate_storable(value: date | datetime | None) -> None:
    """Validator of a date or moment a user stores: within 2000-01-01 … 2100-12-31."""
    if value is not None and not within_bounds(value):
        raise ValidationError(OUT_OF_BOUNDS, code="out_of_bounds")


def date_problem(text: str) -> bool:
    """True when `text` reads as a date or moment outside the bounds (or one that cannot
    exist, like year 0); False for text that is no date at all (not ours to judge)."""
    text = text.strip()
    if len(text) < 10 or not text[:4].isdigit() or text[4:5] != "-":
        return False
    try:
        parsed = parse_datetime(text) if len(text) > 10 else parse_date(text)
    except (ValueError, OverflowError):
        return True
    return parsed is not None and not within_bounds(parsed)


class BoundedDateTimeField(models.DateTimeField):
    """A moment read back clamped to 2000-01-01 … 2100-12-31.

    For moments the system stamps from upstream records (a call's start, an agent's update):
    the sync refuses a record outside the bounds, but a row stored before that rule, or
    written by any other door, held year 1 or 9999, and every page that showed it in an
    organisation's timezone failed (year 1 moved west is year 0). Read back within the
    bounds, it renders. PostgreSQL can also hold year 10000 in UTC, which no Python datetime
    can: the sync refuses such a record, and the rows stored before it were taken out of the
    mirror by a one-off data migration (run before the migrations were squashed).
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        if isinstance(value, datetime) and not within_bounds(value):
            return FIRST_MOMENT if _aware(value).year < FIRST_DAY.year else LAST_MOMENT
        return value


class StorableDateTimeField(BoundedDateTimeField):
    """A moment users set (not one the system stamps): validated within the bounds on every
    form and serializer, and read back clamped to them, so a value stored before the rule
    (year 1, year 9999) renders in any timezone instead of breaking the page."""

    default_validators = [validate_storable]
