"""The API's agents filter (`GET /api/v1/environments/{id}/agents/`).

Calls have one filter for every face that lists them: `reports.call_filter`.
"""
from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from sync.models import Agent
from sync.models.core import Direction


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
