"""django-filter FilterSets for raw mirrored data; the API and the portal's HTML lists share them.

Parameter names and validation messages are Talkover's (`status`, `direction`, `agent_id`,
`date_from`, `date_to`, `search`), so the Talkover-compatible endpoints can use them as they
are. Dates are days in the organisation's timezone (pass `timezone=`; UTC otherwise).
"""
from __future__ import annotations

import zoneinfo
from datetime import date

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from reports.call_search import MAX_SEARCH, search_calls
from sync.models import Agent, Call, CallStatus, Direction
from sync.rollups import local_day_bounds

UTC = zoneinfo.ZoneInfo("UTC")


class CallFilterForm(forms.Form):
    """The range rules: days within the report bounds (`reports.scope`: a year-9999 day has
    no next midnight, so its filter overflowed), and the end not before the start."""

    def clean(self) -> dict:
        from reports.scope import day_bound_error

        data = super().clean()
        if "date_from" not in self.fields:  # the portal's explorer: its own names and words
            return data
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day and (message := day_bound_error(name, day)):
                self.add_error(name, message)
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", "The date to must be a date after or equal to date from.")
        return data


class CallFilterSet(django_filters.FilterSet):
    """Filters over `Call` with Talkover's parameter names and messages (the explorer's).
    `search` is the one search rule of `reports.call_search`, which the compatible listing
    (`reports.talkover_listing`) and `calls_in_range` apply too."""

    status = django_filters.ChoiceFilter(
        choices=CallStatus.choices,
        error_messages={"invalid_choice": "The selected status is invalid."},
    )
    direction = django_filters.ChoiceFilter(
        choices=Direction.choices,
        error_messages={"invalid_choice": "The selected direction is invalid."},
    )
    agent_id = django_filters.CharFilter(field_name="agent_external_id", max_length=64)
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        error_messages={"invalid": "The date from must be a valid date."},
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        error_messages={"invalid": "The date to must be a valid date."},
    )
    search = django_filters.CharFilter(method="filter_search", max_length=MAX_SEARCH)

    class Meta:
        model = Call
        fields: list[str] = []
        form = CallFilterForm

    def __init__(self, data=None, queryset: QuerySet | None = None, *, request=None,
                 prefix: str | None = None, timezone: zoneinfo.ZoneInfo | None = None) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.timezone = timezone or UTC

    def filter_date_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(started_at__gte=local_day_bounds(value, self.timezone)[0])

    def filter_date_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(started_at__lt=local_day_bounds(value, self.timezone)[1])

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """A call's id or SID by any part, phone numbers by their digits (`call_search`)."""
        return search_calls(queryset, value)


class StrictNullBooleanField(forms.NullBooleanField):
    """`true` / `false` (or 1 / 0), empty for "any"; anything else is a 400, where Django's
    NullBooleanField would quietly read it as "any" and answer an unfiltered list."""

    widget = forms.TextInput

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")

    def validate(self, value: object) -> None:
        return None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField


class AgentFilterSet(django_filters.FilterSet):
    """Filters over mirrored agents: direction, callback agents, free-text name search."""

    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    is_callback = StrictBooleanFilter()
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Agent
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value) | Q(label__icontains=value) | Q(external_id=value)
        )
