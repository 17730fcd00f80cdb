"""The explorer's filter set copies its filters one level deep and its form takes the fields
the filters built (`reports.call_filter.FreshFilters`, `CallFilter.form`): no deep copy of a
form field per request, and two filter sets (two organisations, two requests in threads of one
process) still share nothing a request changes — environments, agents, choices, values."""
from __future__ import annotations

import pytest
from django import forms
from django.http import QueryDict

from reports.call_filter import CallFilter
from sync.models import Agent

QUERY = "range=7d&search=CA9ff1b856ccf&status=completed"


@pytest.mark.django_db
def test_no_form_field_is_deep_copied(org_a, env_a, monkeypatch):
    copies = []
    original = forms.Field.__deepcopy__

    def counted(field, memo):
        copies.append(field)
        return original(field, memo)

    monkeypatch.setattr(forms.Field, "__deepcopy__", counted)
    filterset = CallFilter(QueryDict(QUERY), organization=org_a)
    assert filterset.is_valid()
    assert filterset.form.cleaned_data["search"] == "CA9ff1b856ccf"
    assert copies == []


@pytest.mark.django_db
def test_two_filter_sets_share_nothing_a_request_changes(org_a, env_a, org_b, env_b):
    Agent.objects.create(environment=env_a, external_id="agent-a", name="Desk A")
    Agent.objects.create(environment=env_b, external_id="agent-b", name="Desk B")
    first = CallFilter(QueryDict(QUERY), organization=org_a)
    second = CallFilter(QueryDict("range=30d&status=busy"), organization=org_b)
    assert first.is_valid() and second.is_valid()
    shared = CallFilter.base_filters.shared
    assert shared and "env" not in shared and "agent" not in shared
    for name in first.filters:
        assert first.filters[name] is not second.filters[name]
        assert first.filters[name].extra is not second.filters[name].extra
        # A field the declaration alone makes is built once (`FreshFilters.shared`).
        assert (first.form.fields[name] is second.form.fields[name]) == (name in shared)
        assert first.form.fields[name] is first.filters[name].field
    assert list(first.form.fields["env"].queryset) == [env_a]
    assert list(second.form.fields["env"].queryset) == [env_b]
    first_agents = {v for v, _ in first.form.fields["agent"].choices}
    second_agents = {v for v, _ in second.form.fields["agent"].choices}
    assert "agent-a" in first_agents and "agent-b" not in first_agents
    assert "agent-b" in second_agents and "agent-a" not in second_agents
    assert (first.form.cleaned_data["status"], second.form.cleaned_data["status"]) == (
        "completed", "busy")
    assert CallFilter.base_filters["env"].extra["queryset"].query.is_empty()
    assert not hasattr(CallFilter.base_filters["env"], "_field")


def _state(field: forms.Field) -> dict:
    return {**vars(field), "widget": dict(vars(field.widget)),
            "choices": list(getattr(field, "choices", []))}


@pytest.mark.django_db
def test_a_shared_field_is_the_same_after_values_are_checked_and_drawn(org_a, env_a):
    """What the shared fields hold does not move when a request checks its values (good and
    bad) or draws the form: nothing of one request reaches the next."""
    fields = CallFilter(QueryDict("transcript=x"), organization=org_a).form.fields
    assert CallFilter.base_filters.shared <= fields.keys()
    before = {name: _state(fields[name]) for name in CallFilter.base_filters.shared}
    for query in (QUERY, "status=nonsense&weekday=9&hour=-1&search=" + "x" * 300,
                  "range=custom&date_from=2026-02-30&testing=on&utc=on&outcome=other"):
        filterset = CallFilter(QueryDict(query), organization=org_a)
        filterset.is_valid()
        str(filterset.form)  # drawn
    after = {name: _state(fields[name]) for name in CallFilter.base_filters.shared}
    assert after == before
