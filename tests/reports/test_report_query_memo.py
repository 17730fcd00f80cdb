"""A report query's parameters are checked once per distinct query (building the
query serializer was a tenth of a cached report's time): the same query is answered the same
way without a second serializer, a refused one is refused every time (in the asker's
language), and what one request does to its parameters never reaches the next."""
from __future__ import annotations

from datetime import date

import pytest

from reports import registry
from reports.api import reports
from reports.api.reports import query_serializer, validated_query
from tests.support.factories import make_calls

RANGE = {"start_date": "2026-03-01", "end_date": "2026-03-28"}
CallsQuerySerializer = query_serializer(registry.report("calls"))


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """How many query serializers were built to check a query (`is_valid` called)."""
    validated_query.cache_clear()
    count: list[int] = []
    original = CallsQuerySerializer.is_valid

    def counting(self, *args, **kwargs):
        count.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CallsQuerySerializer, "is_valid", counting)
    return count


def test_the_same_query_is_checked_once(env_a, alice, api_client_for, built):
    make_calls(env_a, 40, date(2026, 3, 1), date(2026, 3, 28), seed=3)
    client = api_client_for(alice)
    params = {"environment": env_a.pk, "status": "completed,busy", **RANGE}
    first = client.get("/api/v1/reports/calls/", params)
    second = client.get("/api/v1/reports/calls/", params)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(built) == 1
    other = client.get("/api/v1/reports/calls/", {**params, "status": "completed"})
    assert other.status_code == 200 and len(built) == 2
    assert other.json()["summary"]["filters"]["status"] == ["completed"]


def test_a_refused_query_is_refused_every_time(env_a, alice, api_client_for, built):
    client = api_client_for(alice)
    params = {"environment": env_a.pk, "start_date": "2026-02-30", "end_date": "2026-03-28"}
    first = client.get("/api/v1/reports/calls/", params)
    again = client.get("/api/v1/reports/calls/", params, HTTP_ACCEPT_LANGUAGE="pt-br")
    assert first.status_code == again.status_code == 400
    assert "start_date" in first.json() and "start_date" in again.json()
    assert len(built) == 2


def test_a_request_cannot_change_the_next_ones_parameters():
    validated_query.cache_clear()
    key = (("end_date", ("2026-03-28",)), ("environment", ("5,6",)),
           ("start_date", ("2026-03-01",)))
    view = reports.ReportViewSet()
    view.request = type("Request", (), {"query_params": _Params(dict(key))})()
    mine = view._validated(CallsQuerySerializer)
    mine["environment"].append(99)
    mine["interval"] = "month"
    theirs = view._validated(CallsQuerySerializer)
    assert theirs["environment"] == [5, 6] and theirs["interval"] == "day"


class _Params(dict):
    """The QueryDict methods `_validated` reads."""

    def getlist(self, key):
        return list(self[key])

    def lists(self):
        return [(key, list(values)) for key, values in self.items()]
